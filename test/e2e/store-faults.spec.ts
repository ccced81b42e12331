import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { InProcessCorsInvalidationBus, type ICorsPolicyService } from 'nest-identity-cors';
import { RedisCorsInvalidationBus } from 'nest-identity-cors/redis';
import { TypeOrmClientStore } from 'nest-identity-cors/typeorm';
import { CaptureLogger } from '../support/capture-logger.js';
import { BACKENDS, TestDatabase } from '../support/databases.js';
import { eventually, requireRedis } from '../support/redis.js';
import { startInstance, tokenAcao } from '../support/store-app.js';
import { TcpProxy, hostAndPort, viaProxy } from '../support/tcp-proxy.js';

const SPA = 'https://spa.example';
const ADMIN = 'https://admin.example';
const LATER = 'https://later.example';

const preflightAcao = async (app: INestApplication, origin: string) => {
  const res = await request(app.getHttpServer()).options('/connect/token').set('Origin', origin).set('Access-Control-Request-Method', 'POST');
  expect(res.status).toBe(204);
  return res.headers['access-control-allow-origin'];
};

describe.each(BACKENDS)('the %s database goes away mid-run', (backend) => {
  let db: TestDatabase;
  let proxy: TcpProxy | undefined;
  let ds: DataSource;
  let app: INestApplication;
  let logger: CaptureLogger;

  beforeAll(async () => {
    db = await TestDatabase.create(backend);
    if (backend === 'postgres') {
      const url = process.env.DATABASE_URL as string;
      proxy = await TcpProxy.start(...hostAndPort(url, 5432));
      ds = await db.open({ url: viaProxy(url, proxy.port) });
    } else {
      ds = await db.open();
    }
    const bus = new InProcessCorsInvalidationBus();
    await new TypeOrmClientStore(ds, { bus }).upsert({ clientId: 'spa', allowedCorsOrigins: [SPA, ADMIN, LATER] });
    logger = new CaptureLogger();
    app = await startInstance({ dataSource: ds, bus, logger, policyTimeout: 3000 });
  });
  afterAll(async () => {
    await app.close();
    await proxy?.close();
    await db.dispose();
  });

  const cut = () => (proxy ? proxy.cut() : ds.destroy());
  const restore = () => (proxy ? proxy.restore() : ds.initialize());

  it('keeps serving: uncached origins are denied (logged), cached answers stand, and it recovers', async () => {
    expect(await tokenAcao(app, SPA)).toBe(SPA);

    await cut();
    expect(await tokenAcao(app, ADMIN)).toBeUndefined();
    expect(await preflightAcao(app, LATER)).toBeUndefined();
    expect(logger.at('error').join('\n')).toMatch(/CORS request from origin https:\/\/admin\.example to \/connect\/token denied because policy 'IdentityServer' failed/);
    expect(await tokenAcao(app, SPA)).toBe(SPA); // decided while the database was up, kept for the ttl

    await restore();
    expect(await eventually(async () => (await tokenAcao(app, ADMIN)) === ADMIN, 10_000)).toBe(true);
    expect(await preflightAcao(app, LATER)).toBe(LATER);
  });
});

describe('a slow database: policyTimeout bounds the decision', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let logger: CaptureLogger;
  let delay = 0;

  beforeAll(async () => {
    db = await TestDatabase.create('sqlite');
    const ds = await db.open();
    const bus = new InProcessCorsInvalidationBus();
    await new TypeOrmClientStore(ds, { bus }).upsert({ clientId: 'spa', allowedCorsOrigins: [SPA] });
    const slow = (inner: ICorsPolicyService): ICorsPolicyService => ({
      isOriginAllowed: async (origin) => {
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        return inner.isOriginAllowed(origin);
      },
    });
    logger = new CaptureLogger();
    app = await startInstance({ dataSource: ds, bus, logger, policyTimeout: 100, cache: { timeout: 300 }, wrap: slow });
  });
  afterAll(async () => {
    await app.close();
    await db.dispose();
  });

  it('denies and logs while the store is slower than policyTimeout, then allows once it is fast again', async () => {
    delay = 1000;
    expect(await tokenAcao(app, SPA)).toBeUndefined();
    expect(logger.at('error').join('\n')).toMatch(/denied because policy 'IdentityServer' failed: The CORS decision for https:\/\/spa\.example .*did not answer within 100 ms/);
    delay = 0;
    // The cache's own timeout (300 ms) ends the stuck query, so the next request asks again.
    expect(await eventually(async () => (await tokenAcao(app, SPA)) === SPA, 5000)).toBe(true);
  });
});

// Registered only when REDIS_URL is set (as in CI); then an unreachable Redis fails the suite.
if (process.env.REDIS_URL) describe('Redis goes away mid-run (REDIS_URL)', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let bus: RedisCorsInvalidationBus;
  let store: TypeOrmClientStore;
  let app: INestApplication;
  let logger: CaptureLogger;

  beforeAll(async () => {
    const url = await requireRedis();
    proxy = await TcpProxy.start(...hostAndPort(url, 6379));
    logger = new CaptureLogger();
    bus = new RedisCorsInvalidationBus(viaProxy(url, proxy.port), { channel: `cors-test-${randomBytes(6).toString('hex')}`, logger });
    await bus.ready();
    db = await TestDatabase.create('sqlite');
    const ds = await db.open();
    store = new TypeOrmClientStore(ds, { bus });
    await store.upsert({ clientId: 'spa', allowedCorsOrigins: [SPA] });
    app = await startInstance({ dataSource: ds, bus, logger });
  });
  afterAll(async () => {
    await app.close();
    await bus.close();
    await proxy.close();
    await db.dispose();
  });

  it('denies while the bus is down (its cache may be stale), fails writes loudly, and recovers with a clean cache', async () => {
    expect(await tokenAcao(app, SPA)).toBe(SPA);

    proxy.cut();
    expect(await eventually(async () => !bus.connected, 5000)).toBe(true);
    expect(await tokenAcao(app, SPA)).toBeUndefined();
    expect(await preflightAcao(app, SPA)).toBeUndefined();
    const errors = logger.at('error').join('\n');
    expect(errors).toMatch(/Redis invalidation bus is down .*CORS decisions through the cache are denied until it reconnects/);
    expect(errors).toMatch(/denied because policy 'IdentityServer' failed: the CORS invalidation bus is disconnected/);
    await expect(store.addOrigin('spa', ADMIN)).rejects.toThrow(/client 'spa' was saved, but other instances could not be told/);

    proxy.restore();
    expect(await eventually(async () => bus.connected, 10_000)).toBe(true);
    expect(logger.at('log').join('\n')).toMatch(/Redis invalidation bus reconnected/);
    expect(await tokenAcao(app, SPA)).toBe(SPA);
    expect(await tokenAcao(app, ADMIN)).toBe(ADMIN); // the write made during the outage is seen
  });
});
