/**
 * `sevcheck ... | head -1`: the reader goes away and the next write to stdout fails with EPIPE,
 * which Node raises as an 'error' event on process.stdout; without a listener that is an
 * uncaught exception with a stack trace. A closed stdout/stderr only means nobody reads the rest:
 * the writes are dropped and the command ends with its own exit code.
 */
const guarded = new WeakSet<NodeJS.EventEmitter>();

export function tolerateClosedPipes(streams: readonly NodeJS.EventEmitter[] = [process.stdout, process.stderr]): void {
  for (const s of streams) {
    if (guarded.has(s)) continue;
    guarded.add(s);
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
      throw e;
    });
  }
}
