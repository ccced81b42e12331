import { randomBytes } from 'node:crypto';
import { CachingCorsPolicyService, type CorsInvalidation, type ICorsPolicyService } from 'nest-identity-cors';
import { RedisCorsInvalidationBus } from 'nest-identity-cors/redis';
import { CaptureLogger } from '../support/capture-logger.js';
import { eventually, requireRedis } from '../support/redis.js';
import { TcpProxy, hostAndPort, viaProxy } from '../support/tcp-proxy.js';

// Left out by jest.config.js unless REDIS_URL is set (as in CI); then an unreachable Redis fails the suite.
// The bus under test reaches the real Redis through a proxy that acts on one of its two connections at a
// time; a second bus on the same channel, connected directly, plays another app instance.
if (process.env.REDIS_URL) describe('RedisCorsInvalidationBus recovers from connection faults by itself (REDIS_URL)', () => {
  const A = 'https://a.example';
  const B = 'https://b.example';
  const PUBLISHER = 'nest-identity-cors:publisher';
  const SUBSCRIBER = 'nest-identity-cors:subscriber';
  // Short, so that a black-holed connection is found out within about a second; not so short that a busy
  // machine's pauses pass for a dead connection.
  const heartbeat = { heartbeatInterval: 200, heartbeatTimeout: 1000 };
  let url: string;
  let proxy: TcpProxy;
  let logger: CaptureLogger;
  let bus: RedisCorsInvalidationBus;
  let other: RedisCorsInvalidationBus;
  let changes: CorsInvalidation[];
  let heardByOther: CorsInvalidation[];
  let cache: CachingCorsPolicyService;
  let calls: number;

  const downLines = () => logger.at('error').filter((line) => line.startsWith('Redis invalidation bus is down'));
  const upLines = () => logger.at('log').filter((line) => line.startsWith('Redis invalidation bus reconnected'));
  const origins = (list: CorsInvalidation[]) => list.flatMap((change) => ('origins' in change ? change.origins : []));
  const cleared = () => changes.some((change) => 'all' in change);
  const wentDown = () => eventually(async () => downLines().length > 0, 5000);

  beforeAll(async () => {
    url = await requireRedis();
  });
  beforeEach(async () => {
    const channel = `cors-test-${randomBytes(6).toString('hex')}`;
    proxy = await TcpProxy.start(...hostAndPort(url, 6379));
    logger = new CaptureLogger();
    bus = new RedisCorsInvalidationBus(viaProxy(url, proxy.port), { channel, logger, ...heartbeat });
    other = new RedisCorsInvalidationBus(url, { channel, logger: new CaptureLogger() });
    await Promise.all([bus.ready(), other.ready()]);
    changes = [];
    heardByOther = [];
    bus.subscribe((change) => changes.push(change));
    other.subscribe((change) => heardByOther.push(change));
    calls = 0;
    const inner: ICorsPolicyService = { isOriginAllowed: async () => ++calls > 0 };
    cache = new CachingCorsPolicyService(inner, { bus });
    expect(await cache.isOriginAllowed(A)).toBe(true);
    expect(calls).toBe(1);
  });
  afterEach(async () => {
    cache.onModuleDestroy();
    await Promise.all([bus.close(), other.close()]);
    await proxy.close();
  });

  /**
   * The bus is connected again by itself; its cache answers; changes flow both ways; the cache was cleared
   * exactly when the subscription was interrupted; one line said it went down (naming why) and one that it is back.
   */
  async function expectRecovered(subscriptionInterrupted: boolean, downReason: RegExp): Promise<void> {
    expect(await eventually(async () => bus.connected, 5000)).toBe(true);
    expect(await cache.isOriginAllowed(A)).toBe(true);
    expect(calls).toBe(subscriptionInterrupted ? 2 : 1);
    expect(cleared()).toBe(subscriptionInterrupted);

    await other.publish({ origins: [B] });
    expect(await eventually(async () => origins(changes).includes(B), 2000)).toBe(true);
    await bus.publish({ origins: [A] });
    expect(await eventually(async () => origins(heardByOther).includes(A), 2000)).toBe(true);

    expect(downLines()).toHaveLength(1);
    expect(downLines()[0]).toMatch(downReason);
    expect(upLines()).toHaveLength(1);
    expect(upLines()[0]).toMatch(subscriptionInterrupted ? /CORS caches were cleared/ : /CORS caches were kept/);
  }

  it('a reset of the publisher alone: down until ioredis reconnects it, then up again with the caches kept', async () => {
    proxy.connection(PUBLISHER).reset();
    expect(await wentDown()).toBe(true);
    await expectRecovered(false, /down \(publisher: .*\)/);
  });

  it('a reset of the subscriber alone: up again once resubscribed, with the caches cleared', async () => {
    proxy.connection(SUBSCRIBER).reset();
    expect(await wentDown()).toBe(true);
    await expectRecovered(true, /down \(subscriber: .*\)/);
  });

  it('a reset of both connections: up again once both are back, with the caches cleared', async () => {
    proxy.connection(PUBLISHER).reset();
    proxy.connection(SUBSCRIBER).reset();
    expect(await wentDown()).toBe(true);
    await expectRecovered(true, /down \((publisher|subscriber): .*\)/);
  });

  it('a black-holed publisher is found out by the heartbeat and reopened; the caches are kept', async () => {
    proxy.connection(PUBLISHER).blackhole();
    expect(await wentDown()).toBe(true);
    expect(downLines()[0]).toMatch(/publisher: no reply to PING within 1000 ms/);
    await expectRecovered(false, /down \(publisher: .*\)/);
  });

  it('a black-holed subscriber is found out by the heartbeat and resubscribed; the change it missed is made up for by clearing the caches', async () => {
    proxy.connection(SUBSCRIBER).blackhole();
    await other.publish({ origins: [A] }); // lost in the black hole
    expect(await wentDown()).toBe(true);
    expect(downLines()[0]).toMatch(/subscriber: no reply to PING within 1000 ms/);
    expect(origins(changes)).not.toContain(A);
    await expectRecovered(true, /down \(subscriber: .*\)/);
  });

  it.each([
    ['publisher', 'subscriber'],
    ['subscriber', 'publisher'],
  ])('a reset of the %s while the %s is reconnecting: down while either is, then up once both are back', async (first, second) => {
    proxy.refuseNew();
    proxy.connection(`nest-identity-cors:${first}`).reset();
    expect(await eventually(async () => !bus.connected, 3000)).toBe(true);
    proxy.connection(`nest-identity-cors:${second}`).reset();
    // Both now retry against a proxy that refuses them: several attempts fail, still one down line.
    expect(await eventually(async () => proxy.connections().length === 0, 3000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(bus.connected).toBe(false);
    proxy.restore();
    await expectRecovered(true, new RegExp(`down \\(${first}: .*\\)`));
  });

  it('a change published while the publisher is down rejects, and once it is back the other instances are told to forget everything', async () => {
    proxy.refuseNew();
    proxy.connection(PUBLISHER).reset();
    expect(await eventually(async () => !bus.connected, 3000)).toBe(true);
    await expect(bus.publish({ origins: ['https://c.example'] })).rejects.toThrow();
    expect(origins(changes)).toContain('https://c.example'); // here it took effect at once
    expect(heardByOther).toEqual([]);
    proxy.restore();
    expect(await eventually(async () => heardByOther.some((change) => 'all' in change), 5000)).toBe(true);
    await expectRecovered(false, /down \(publisher: .*\)/);
  });

  it('a reconnection whose handshake is never answered is dropped after heartbeatTimeout and tried again', async () => {
    proxy.blackholeNew();
    proxy.connection(PUBLISHER).reset();
    // The publisher reconnects to a proxy that accepts and then passes nothing: without a bound on the
    // handshake, ioredis would wait on it for ever.
    expect(await eventually(async () => proxy.connections().some((connection) => connection.sent.includes(PUBLISHER)), 3000)).toBe(true);
    const held = proxy.connection(PUBLISHER);
    expect(await eventually(async () => !held.open, 3000)).toBe(true);
    expect(bus.connected).toBe(false);
    proxy.restore();
    await expectRecovered(false, /down \(publisher: .*\)/);
  });

  it('Redis unreachable at startup: one down line naming why, then ready() resolves by itself once it is reachable, with one up line', async () => {
    proxy.cut();
    const startLog = new CaptureLogger();
    const late = new RedisCorsInvalidationBus(viaProxy(url, proxy.port), { channel: `cors-test-${randomBytes(6).toString('hex')}`, logger: startLog, ...heartbeat });
    try {
      let ready = false;
      void late.ready().then(() => (ready = true));
      await new Promise((resolve) => setTimeout(resolve, 1000)); // several attempts fail meanwhile
      expect(ready || late.connected).toBe(false);
      expect(startLog.at('error')).toEqual([expect.stringMatching(/^Redis invalidation bus is down \((publisher|subscriber): .+\)/)]);
      proxy.restore();
      expect(await eventually(async () => ready && late.connected, 5000)).toBe(true);
      expect(startLog.at('log')).toEqual([expect.stringMatching(/^Redis invalidation bus reconnected .*CORS caches were cleared/)]);
    } finally {
      await late.close();
    }
  });

  it('Redis unreachable for a while (connections dropped and refused), then back: one down line, one up line, caches cleared', async () => {
    proxy.cut();
    expect(await eventually(async () => !bus.connected, 3000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // several reconnection attempts fail meanwhile
    expect(bus.connected).toBe(false);
    await expect(bus.publish({ origins: ['https://c.example'] })).rejects.toThrow();
    proxy.restore();
    await expectRecovered(true, /down \((publisher|subscriber): .*\)/);
  });
});
