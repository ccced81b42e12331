/**
 * A bounded memo of a pure function's answers, keyed by strings that attackers may choose: a Map of at most `max`
 * entries, the oldest dropped first (a dropped answer is only computed again). For the memos read on every request
 * (a request's Origin, its route, its identity policy): lru-cache's get, which builds an options object, checks its
 * diagnostics channel and moves the entry to the front, cost about 250 instructions more per read than Map's
 * (bench/layer-instructions.sh), three reads per identity request. Caches with expiry stay with lru-cache.
 */
export class Memo<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    const entries = this.entries;
    if (entries.size >= this.max && !entries.has(key)) entries.delete(entries.keys().next().value as string);
    entries.set(key, value);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
