/**
 * `npm run bench`: every benchmark, one after the other, numbers on stdout.
 * Goals (checked by eye and quoted in closing notes, not asserted in unit tests):
 *   npm start ≤ 2 s; run --host local ≤ 1.5 s; lint 1,000 domains ≤ 10 s;
 *   SNP digest of OVMF_CODE_4M.fd ≤ 2× one SHA-384 pass; `sevcheck run` on the reference
 *   fixture ≤ 0.5 s warm (prebuilt bundle); `sevcheck fleet` over 200 generated fixture hosts
 *   ≤ 10 s wall and ≤ 1 GiB, the curve for 50/100/200/1000 hosts (1000 ≤ 50 s); the fleet's
 *   index.html at 1,000 hosts ≤ 2 MB with its open time in headless Chromium, and metrics.prom
 *   ≤ 10 series per host + 1 per failing check (fleet-page); over ssh (a loopback sshd the
 *   benchmark starts): one host ≤ 2× local and ≤ 10 remote commands, 100 targets ≤ 60 s none in
 *   error (`npm run bench ssh`); `sevcheck run --host image:` on the Debian 13 qcow2 ≤ 60 s
 *   without KVM, with where the time goes (`npm run bench image`).
 */
import benchSuite from './suite.bench.js';
import { benchLintDomain } from './lint-domain.bench.js';
import benchSnpDigest, { printSnpDigestBench } from './snp-digest.bench.js';
import benchStartup from './startup.bench.js';
import benchFleet from './fleet.bench.js';
import benchFleetPage from './fleet-page.bench.js';
import benchSsh from './ssh.bench.js';
import benchImage from './image.bench.js';

const only = process.argv[2];
if (!only || only === 'startup') benchStartup();
if (!only || only === 'suite') await benchSuite();
if (!only || only === 'lint') await benchLintDomain();
if (!only || only === 'measure') printSnpDigestBench(await benchSnpDigest());
// `npm run bench fleet 1000`: the sizes after the name (default 50/100/200/1000)
const sizes = process.argv.slice(3).map(Number).filter((n) => n > 0);
if (!only || only === 'fleet') benchFleet(sizes.length ? sizes : undefined);
if (!only || only === 'fleet-page') await benchFleetPage();
// `npm run bench ssh 25 50`: those fleet sizes only
if (!only || only === 'ssh') await benchSsh(only === 'ssh' && process.argv.length > 3 ? process.argv.slice(3).map(Number).filter((n) => n > 0) : undefined);
if (!only || only === 'image') await benchImage();
