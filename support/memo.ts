/**
 * Per-run memoization of async facts: the first call for a key starts the work, every later call
 * gets the same promise (rejections included, so a failed read is not retried by each check).
 */
export class Memo {
  private readonly promises = new Map<string, Promise<unknown>>();

  once<T>(key: string, f: () => Promise<T>): Promise<T> {
    let p = this.promises.get(key) as Promise<T> | undefined;
    if (!p) {
      p = f();
      // the rejection stays cached for the callers that await it, but is never "unhandled"
      p.catch(() => undefined);
      this.promises.set(key, p);
    }
    return p;
  }

  /**
   * What an earlier `once` for `key` gave, without starting any work: undefined when nothing
   * asked for it yet or it failed. For describing a host from facts the run already read.
   */
  async peek<T>(key: string): Promise<T | undefined> {
    const p = this.promises.get(key) as Promise<T> | undefined;
    return p ? p.catch(() => undefined) : undefined;
  }
}
