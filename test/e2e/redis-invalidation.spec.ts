import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { CachingCorsPolicyService, type CorsInvalidation, type ICorsPolicyService } from 'nest-identity-cors';
import { RedisCorsInvalidationBus } from 'nest-identity-cors/redis';
import { CaptureLogger } from '../support/capture-logger.js';
import { eventually, requireRedis } from '../support/redis.js';

describe('RedisCorsInvalidationBus options', () => {
  it.each([[''], [42]])('refuses channel %p with a message naming it', (channel) => {
    expect(() => new RedisCorsInvalidationBus({ lazyConnect: true }, { channel: channel as string })).toThrow(
      new RegExp(`channel must be a non-empty string \\(got ${JSON.stringify(channel)}\\)`),
    );
  });

  it.each([
    ['heartbeatInterval', 0, 2000],
    ['heartbeatInterval', 1.5, 2000],
    ['heartbeatTimeout', -1, 3000],
    ['heartbeatTimeout', '3000', 3000],
  ])('refuses %s %p with a message naming it and a value it accepts', (name, value, fix) => {
    const make = (ms: unknown) => new RedisCorsInvalidationBus({ lazyConnect: true }, { [name]: ms });
    expect(() => make(value)).toThrow(`RedisCorsInvalidationBus: ${name} must be a whole number of milliseconds ≥ 1 (got ${JSON.stringify(value)}): use e.g. ${fix}`);
    return make(fix).close();
  });
});

// Registered only when REDIS_URL is set (as in CI); then an unreachable Redis fails the suite.
if (process.env.REDIS_URL) describe('RedisCorsInvalidationBus between two instances (REDIS_URL)', () => {
  const A = 'https://a.example';
  let url: string;
  let channel: string;
  let one: RedisCorsInvalidationBus;
  let two: RedisCorsInvalidationBus;
  let logger: CaptureLogger;

  beforeAll(async () => {
    url = await requireRedis();
  });
  beforeEach(async () => {
    channel = `cors-test-${randomBytes(6).toString('hex')}`;
    logger = new CaptureLogger();
    one = new RedisCorsInvalidationBus(url, { channel, logger });
    two = new RedisCorsInvalidationBus(url, { channel, logger });
    await Promise.all([one.ready(), two.ready()]);
  });
  afterEach(async () => {
    await Promise.all([one.close(), two.close()]);
  });

  it('delivers a change here at once, to the other instance once, and never twice here', async () => {
    const here: CorsInvalidation[] = [];
    const there: CorsInvalidation[] = [];
    one.subscribe((change) => here.push(change));
    two.subscribe((change) => there.push(change));
    const published = one.publish({ origins: [A] });
    expect(here).toEqual([{ origins: [A] }]);
    await published;
    expect(await eventually(async () => there.length > 0, 2000)).toBe(true);
    await one.publish({ all: true });
    expect(await eventually(async () => there.length > 1, 2000)).toBe(true);
    expect(there).toEqual([{ origins: [A] }, { all: true }]);
    expect(here).toEqual([{ origins: [A] }, { all: true }]);
  });

  it("another instance's cache forgets the origin", async () => {
    let calls = 0;
    const inner: ICorsPolicyService = { isOriginAllowed: async () => ++calls > 0 };
    const cache = new CachingCorsPolicyService(inner, { bus: two });
    await cache.isOriginAllowed(A);
    await cache.isOriginAllowed(A);
    expect(calls).toBe(1);
    await one.publish({ origins: [A] });
    expect(await eventually(async () => (await cache.isOriginAllowed(A)) && calls === 2, 2000)).toBe(true);
    cache.onModuleDestroy();
  });

  it.each([['null'], ['42'], ['"text"'], ['[]']])('a message of JSON %s is read as unreadable (clears caches), never thrown in the listener', async (raw) => {
    const inner: ICorsPolicyService = { isOriginAllowed: async () => true };
    const cache = new CachingCorsPolicyService(inner, { bus: two });
    await cache.isOriginAllowed(A);
    expect(cache.size).toBe(1);
    const publisher = new Redis(url);
    await publisher.publish(channel, raw);
    publisher.disconnect();
    expect(await eventually(async () => cache.size === 0, 2000)).toBe(true);
    // Read as a message (a warning naming it), not thrown: a throw drops the connection, and only its reconnection clears.
    expect(logger.at('warn').join('\n')).toContain(`Unreadable message on CORS invalidation channel '${channel}': ${raw}`);
    expect(logger.at('error')).toEqual([]);
    cache.onModuleDestroy();
  });

  it('an unreadable message clears every cache, with a warning', async () => {
    const inner: ICorsPolicyService = { isOriginAllowed: async () => true };
    const cache = new CachingCorsPolicyService(inner, { bus: two });
    await cache.isOriginAllowed(A);
    expect(cache.size).toBe(1);
    const raw = new Redis(url);
    await raw.publish(channel, 'not json');
    raw.disconnect();
    expect(await eventually(async () => cache.size === 0, 2000)).toBe(true);
    expect(logger.at('warn').join('\n')).toMatch(new RegExp(`Unreadable message on CORS invalidation channel '${channel}': not json; clearing CORS caches`));
    cache.onModuleDestroy();
  });
});
