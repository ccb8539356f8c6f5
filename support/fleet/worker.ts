/**
 * A fleet worker thread: loads cucumber's support code once (run/suite.ts loadSuite), then runs
 * the hosts the pool (fleet/pool.ts) sends it, several at once when the pool allows (ssh hosts
 * wait on the network), and posts each one's HostDone back.
 */
import { parentPort } from 'node:worker_threads';
import { loadSuite } from '../run/suite.js';
import { runHost, type HostJob } from './host-run.js';
import { closeXmllintServer } from '../domain/xmllint-server.js';

const port = parentPort;
if (!port) throw new Error('fleet/worker.ts runs as a worker thread');
const suite = loadSuite();
port.on('message', (msg: { id: number; job: HostJob } | { close: true }) => {
  // the pool is done: stop this thread's kept xmllint (domain/xmllint-server.ts) and end
  if ('close' in msg) {
    closeXmllintServer();
    port.close();
    return;
  }
  void suite
    .then((s) => runHost(msg.job, s))
    .catch((e: unknown) => ({ name: msg.job.name, exitCode: 2 as const, error: `worker: ${e instanceof Error ? e.message : String(e)}`, durationMs: 0, phases: { open: 0, suite: 0, collect: 0, write: 0 }, warnings: [] }))
    .then((done) => port.postMessage({ id: msg.id, done, rss: process.memoryUsage.rss() }));
});
