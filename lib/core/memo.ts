/**
 * A bounded memo of a pure function's answers, keyed by strings that attackers may choose: a Map of at most `max`
 * entries, the oldest dropped first (a dropped answer is only computed again). For the memos read on every request
 * (a request's Origin, its route, its identity policy): lru-cache's get, which builds an options object, checks its
 * diagnostics channel and moves the entry to the front, cost about 250 instructions more per read than Map's
 * (bench/layer-instructions.sh), three reads per identity request. Caches with expiry stay with lru-cache.
 *
 * The keys of a request are strings Node's parser has just made: a Map must hash each of them first, and compare it
 * with the key it finds by running into V8's runtime. So the last few keys found are compared first, by their
 * characters (`===`), which costs a fraction of the hash: a browser app sends the same few origins and paths again
 * and again. Counted over HTTP (bench/instructions.sh, V8's ComputeAndSetRawHash) the hashes were about 1 k
 * instructions of an identity preflight, with its origin, path and Access-Control-Request-Headers.
 */
export class Memo<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** The keys found or set last, each its entry's own (see Entry.key), and their entries; RECENT of each. */
  private readonly recentKeys: Array<string | undefined> = new Array<string | undefined>(RECENT).fill(undefined);
  private readonly recentEntries: Array<Entry<V> | undefined> = new Array<Entry<V> | undefined>(RECENT).fill(undefined);
  /** The recent slot the next key found or set takes (the oldest). */
  private next = 0;

  /**
   * `ownKeys`: the caller gives keys that are strings of their own already (see ownCopy; a Memo's answers), held as
   * given: a later lookup with that same string then compares by identity, not by its characters.
   */
  constructor(
    private readonly max: number,
    private readonly ownKeys = false,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`A Memo holds at least one entry: got ${max}`);
  }

  get(key: string): V | undefined {
    const keys = this.recentKeys;
    for (let i = 0; i < RECENT; i++) if (keys[i] === key) return this.recentEntries[i]!.value;
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.remember(entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    const entries = this.entries;
    const held = entries.get(key);
    if (held !== undefined) {
      held.value = value;
      return;
    }
    if (entries.size >= this.max) this.drop(entries.keys().next().value as string);
    const entry: Entry<V> = { key: this.ownKeys ? key : ownCopy(key), value };
    entries.set(entry.key, entry);
    this.remember(entry);
  }

  clear(): void {
    this.entries.clear();
    this.recentKeys.fill(undefined);
    this.recentEntries.fill(undefined);
  }

  get size(): number {
    return this.entries.size;
  }

  private remember(entry: Entry<V>): void {
    const slot = this.next;
    this.recentKeys[slot] = entry.key;
    this.recentEntries[slot] = entry;
    this.next = (slot + 1) % RECENT;
  }

  /** Drops an entry, from the recent slots too (they hold no more than the Map). */
  private drop(key: string): void {
    this.entries.delete(key);
    const slot = this.recentKeys.indexOf(key);
    if (slot !== -1) {
      this.recentKeys[slot] = undefined;
      this.recentEntries[slot] = undefined;
    }
  }
}

/** How many recent keys a Memo compares before its Map: a browser app's few origins; more slots cost every miss a compare. */
const RECENT = 4;

interface Entry<V> {
  /** The key as a string of its own (see ownCopy). */
  readonly key: string;
  value: V;
}

/**
 * The string as a sequential copy of its own. A key may be a slice of a longer string (a path of the request target),
 * and V8 keeps a slice's whole parent alive (a query of 16 KB behind a short path). And `===` compares two sequential
 * strings in V8's generated code, but a slice (as `' ' + key` sliced makes) in its runtime, at several times the cost
 * (bench/layer-functions.mjs: String::SlowEquals). A JSON round trip copies any string exactly, into one piece.
 */
export function ownCopy(value: string): string {
  return JSON.parse(JSON.stringify(value)) as string;
}
