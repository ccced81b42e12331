import { CachingCorsPolicyService, CorsCacheUnavailableError, InProcessCorsInvalidationBus, type ICorsPolicyService } from 'nest-identity-cors';
import { TimeoutError } from '../../lib/core/with-timeout.js';

const A = 'https://a.example';
const B = 'https://b.example';

/** A policy service that records its calls; each answer can be held back until released. */
class CountingService implements ICorsPolicyService {
  calls: string[] = [];
  allowed = new Set<string>([A]);
  failWith?: Error;
  hold = false;
  private pending: Array<() => void> = [];

  async isOriginAllowed(origin: string): Promise<boolean> {
    this.calls.push(origin);
    const answer = this.allowed.has(origin); // read now, answered when released
    if (this.hold) await new Promise<void>((resolve) => this.pending.push(resolve));
    if (this.failWith) throw this.failWith;
    return answer;
  }
  release(): void {
    this.hold = false;
    this.pending.splice(0).forEach((resolve) => resolve());
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('CachingCorsPolicyService', () => {
  let inner: CountingService;
  let bus: InProcessCorsInvalidationBus;
  beforeEach(() => {
    inner = new CountingService();
    bus = new InProcessCorsInvalidationBus();
  });

  it('answers allowed and denied origins from the cache after the first call', async () => {
    const cache = new CachingCorsPolicyService(inner, { bus });
    expect(await cache.isOriginAllowed(A)).toBe(true);
    expect(await cache.isOriginAllowed(B)).toBe(false);
    expect(await cache.isOriginAllowed(A)).toBe(true);
    expect(await cache.isOriginAllowed(B)).toBe(false);
    expect(inner.calls).toEqual([A, B]);
  });

  it('answers a cached origin at once (a boolean, no Promise) and a miss in a Promise, asking the wrapped service once per origin', async () => {
    const cache = new CachingCorsPolicyService(inner, { bus });
    const miss = cache.isOriginAllowed(A);
    expect(miss).toBeInstanceOf(Promise);
    expect(await miss).toBe(true);
    expect(cache.isOriginAllowed(A)).toBe(true);
    await cache.isOriginAllowed(B);
    expect(cache.isOriginAllowed(B)).toBe(false);
    expect(inner.calls).toEqual([A, B]);
  });

  it('100 concurrent calls for one uncached origin make one call to the wrapped service', async () => {
    const cache = new CachingCorsPolicyService(inner, { bus });
    inner.hold = true;
    const answers = Array.from({ length: 100 }, () => cache.isOriginAllowed(A));
    await sleep(5);
    inner.release();
    expect(await Promise.all(answers)).toEqual(Array(100).fill(true));
    expect(inner.calls).toEqual([A]);
  });

  it('keeps denials for deniedTtl and allowed answers for ttl', async () => {
    const cache = new CachingCorsPolicyService(inner, { bus, ttl: 60_000, deniedTtl: 20 });
    await cache.isOriginAllowed(A);
    await cache.isOriginAllowed(B);
    await sleep(60); // well past deniedTtl, far before ttl
    inner.allowed.add(B);
    expect(await cache.isOriginAllowed(B)).toBe(true);
    expect(await cache.isOriginAllowed(A)).toBe(true);
    expect(inner.calls).toEqual([A, B, B]);
  });

  it('stays bounded when an attacker sends many distinct origins', async () => {
    const cache = new CachingCorsPolicyService(inner, { bus, max: 100 });
    for (let i = 0; i < 5000; i++) expect(await cache.isOriginAllowed(`https://x${i}.evil.example`)).toBe(false);
    expect(cache.size).toBeLessThanOrEqual(100);
    expect(await cache.isOriginAllowed(A)).toBe(true);
  });

  it('does not cache failures: they reach the caller, and the next call asks again', async () => {
    const cache = new CachingCorsPolicyService(inner, { bus });
    inner.failWith = new Error('database is down');
    await expect(cache.isOriginAllowed(A)).rejects.toThrow('database is down');
    inner.failWith = undefined;
    expect(await cache.isOriginAllowed(A)).toBe(true);
    expect(inner.calls).toEqual([A, A]);
  });

  it('bounds a hanging call with its timeout, so a stuck query never blocks the origin for good', async () => {
    const cache = new CachingCorsPolicyService(inner, { bus, timeout: 30 });
    inner.hold = true;
    await expect(cache.isOriginAllowed(A)).rejects.toThrow(TimeoutError);
    await expect(cache.isOriginAllowed(A)).rejects.toThrow(/did not answer within 30 ms/);
    inner.release();
    expect(await cache.isOriginAllowed(A)).toBe(true);
  });

  it('invalidates one origin, several origins, or everything', async () => {
    const cache = new CachingCorsPolicyService(inner, { bus });
    await Promise.all([A, B, 'https://c.example'].map((o) => cache.isOriginAllowed(o)));
    inner.calls = [];
    await cache.invalidate('HTTPS://A.EXAMPLE'); // a configured spelling maps to the cached key
    await cache.isOriginAllowed(A);
    await cache.isOriginAllowed(B);
    expect(inner.calls).toEqual([A]);
    await cache.invalidateOrigins([A, B]);
    await cache.isOriginAllowed(A);
    await cache.isOriginAllowed(B);
    await cache.isOriginAllowed('https://c.example');
    expect(inner.calls).toEqual([A, A, B]);
    await cache.invalidateAll();
    expect(cache.size).toBe(0);
  });

  it('an invalidation that arrives while the query is in flight keeps its answer out of the cache', async () => {
    const cache = new CachingCorsPolicyService(inner, { bus });
    inner.hold = true;
    const before = cache.isOriginAllowed(B);
    await sleep(5);
    inner.allowed.add(B); // the store changed after the query read it
    await cache.invalidate(B);
    inner.release();
    expect(await before).toBe(false);
    expect(await cache.isOriginAllowed(B)).toBe(true);
  });

  it('invalidations published by others on the bus reach it; onModuleDestroy stops listening', async () => {
    const cache = new CachingCorsPolicyService(inner, { bus });
    await cache.isOriginAllowed(A);
    await bus.publish({ origins: [A] });
    await cache.isOriginAllowed(A);
    expect(inner.calls).toEqual([A, A]);
    cache.onModuleDestroy();
    await bus.publish({ all: true });
    await cache.isOriginAllowed(A);
    expect(inner.calls).toEqual([A, A]);
  });

  it('fails closed while the bus is disconnected, without asking the wrapped service', async () => {
    let connected = false;
    const flaky = { get connected() { return connected; }, publish: () => Promise.resolve(), subscribe: () => () => undefined };
    const cache = new CachingCorsPolicyService(inner, { bus: flaky });
    await expect(cache.isOriginAllowed(A)).rejects.toThrow(CorsCacheUnavailableError);
    expect(inner.calls).toEqual([]);
    connected = true;
    expect(await cache.isOriginAllowed(A)).toBe(true);
  });

  it.each([
    [{ ttl: 0 }, /ttl must be a whole number of milliseconds ≥ 1 \(got 0\)/],
    [{ deniedTtl: 1.5 }, /deniedTtl must be a whole number of milliseconds ≥ 1 \(got 1\.5\)/],
    [{ max: -1 }, /max must be a whole number of entries ≥ 1 \(got -1\)/],
    [{ timeout: Number.NaN }, /timeout must be a whole number of milliseconds ≥ 1 \(got NaN\)/],
  ])('rejects bad options %p with a message naming the value', (options, message) => {
    expect(() => new CachingCorsPolicyService(inner, { bus, ...options })).toThrow(message);
  });
});
