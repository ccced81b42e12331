import { randomBytes } from 'node:crypto';
import { Controller, Global, Module, Post, type INestApplication } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CachingCorsPolicyService, ICorsInvalidationBus, IdentityCorsModule, InProcessCorsInvalidationBus } from 'nest-identity-cors';
import { RedisCorsInvalidationBus } from 'nest-identity-cors/redis';
import { CORS_TYPEORM_ENTITIES, TypeOrmClientStore, TypeOrmCorsPolicyService } from 'nest-identity-cors/typeorm';
import { createApp } from '../support/app.js';
import { TestDatabase } from '../support/databases.js';
import { eventually, requireRedis } from '../support/redis.js';
import { admin, startInstance, tokenAcao } from '../support/store-app.js';

const SPA = 'https://spa.example';
const NEW = 'https://new.example';

interface Cluster {
  a: INestApplication;
  b: INestApplication;
  stop(): Promise<void>;
}

/** Two app instances on one database: each its own DataSource and Redis bus, or (without the URLs) one SQLite and one in-process bus. */
async function startCluster(real: boolean): Promise<Cluster> {
  const db = await TestDatabase.create(real ? 'postgres' : 'sqlite');
  const buses: ICorsInvalidationBus[] = [];
  const apps: INestApplication[] = [];
  const shared = real ? undefined : { dataSource: await db.open(), bus: new InProcessCorsInvalidationBus() };
  const channel = `cors-test-${randomBytes(6).toString('hex')}`; // parallel runs on one Redis do not hear each other
  for (let i = 0; i < 2; i++) {
    let instance: { dataSource: DataSource; bus: ICorsInvalidationBus };
    if (shared) instance = shared;
    else {
      const bus = new RedisCorsInvalidationBus(await requireRedis(), { channel });
      await bus.ready();
      instance = { dataSource: await db.open(), bus };
    }
    buses.push(instance.bus);
    apps.push(await startInstance(instance));
  }
  return {
    a: apps[0],
    b: apps[1],
    async stop() {
      await Promise.all(apps.map((app) => app.close()));
      await Promise.all(buses.map((bus) => (bus instanceof RedisCorsInvalidationBus ? bus.close() : undefined)));
      await db.dispose();
    },
  };
}

const modes: Array<[string, boolean]> = [['one SQLite database and an in-process bus', false]];
if (process.env.DATABASE_URL && process.env.REDIS_URL) modes.push(['PostgreSQL and Redis', true]);

describe.each(modes)('two app instances on %s', (_name, real) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(real);
  });
  afterAll(() => cluster.stop());

  it('an origin added through instance A is honoured by instance B within 1 second, though B had cached a denial', async () => {
    const { a, b } = cluster;
    expect((await admin(a).put('/admin/clients/spa').send({ allowedCorsOrigins: [SPA] })).status).toBe(200);
    expect(await tokenAcao(b, SPA)).toBe(SPA);
    expect(await tokenAcao(b, NEW)).toBeUndefined(); // cached for 15 minutes
    expect(await tokenAcao(b, NEW)).toBeUndefined();

    expect((await admin(a).post('/admin/clients/spa/origins').send({ origin: NEW })).status).toBe(201);
    expect(await eventually(async () => (await tokenAcao(b, NEW)) === NEW, 1000)).toBe(true);
    expect(await tokenAcao(a, NEW)).toBe(NEW);
  });

  it('removing an origin or disabling the client through A stops B from allowing it within 1 second', async () => {
    const { a, b } = cluster;
    expect(await tokenAcao(b, SPA)).toBe(SPA);
    expect((await admin(a).delete('/admin/clients/spa/origins').send({ origin: SPA })).status).toBe(200);
    expect(await eventually(async () => (await tokenAcao(b, SPA)) === undefined, 1000)).toBe(true);

    expect(await tokenAcao(b, NEW)).toBe(NEW);
    expect((await admin(a).put('/admin/clients/spa/enabled').send({ enabled: false })).status).toBe(200);
    expect(await eventually(async () => (await tokenAcao(b, NEW)) === undefined, 1000)).toBe(true);
  });

  it('an invalid origin sent to the admin API is refused with a message naming it, and changes nothing', async () => {
    const res = await admin(cluster.a).post('/admin/clients/spa/origins').send({ origin: 'https://evil.example/path' });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/'https:\/\/evil\.example\/path' is a URL, not an origin: use 'https:\/\/evil\.example'/);
  });
});

describe("wired as docs/database-store.md's Caching and scale-out section shows", () => {
  const busFactory = () => (process.env.REDIS_URL ? new RedisCorsInvalidationBus(process.env.REDIS_URL, { channel: `cors-test-${randomBytes(6).toString('hex')}` }) : new InProcessCorsInvalidationBus());

  @Global()
  @Module({ providers: [{ provide: ICorsInvalidationBus, useFactory: busFactory }], exports: [ICorsInvalidationBus] })
  class CorsBusModule {}

  @Controller('connect')
  class TokenController {
    @Post('token') token() { return { access_token: 't' }; }
  }

  @Module({
    imports: [
      CorsBusModule,
      TypeOrmModule.forRoot({ type: 'sqljs', entities: [...CORS_TYPEORM_ENTITIES], synchronize: true }),
      IdentityCorsModule.forRoot({}, {
        corsPolicyService: {
          useFactory: (ds: DataSource, bus: ICorsInvalidationBus) => new CachingCorsPolicyService(new TypeOrmCorsPolicyService(ds), { bus }),
          inject: [getDataSourceToken(), ICorsInvalidationBus],
        },
      }),
    ],
    controllers: [TokenController],
    providers: [
      { provide: TypeOrmClientStore, useFactory: (ds: DataSource, bus: ICorsInvalidationBus) => new TypeOrmClientStore(ds, { bus }), inject: [getDataSourceToken(), ICorsInvalidationBus] },
    ],
  })
  class AppModule {}

  it('the store and the cache share the bus: a write is honoured by the next request, and close() ends the bus', async () => {
    const app = await createApp({ imports: [AppModule] }, { explainerAgreement: 'at-response' }); // store writes between requests
    const bus = app.get<ICorsInvalidationBus>(ICorsInvalidationBus);
    if (bus instanceof RedisCorsInvalidationBus) await bus.ready();
    const store = app.get(TypeOrmClientStore);
    await store.upsert({ clientId: 'spa', allowedCorsOrigins: [SPA] });
    expect(await tokenAcao(app, SPA)).toBe(SPA);
    expect(await tokenAcao(app, NEW)).toBeUndefined();
    await store.addOrigin('spa', NEW);
    expect(await tokenAcao(app, NEW)).toBe(NEW);
    await app.close();
    expect(bus.connected).toBe(bus instanceof InProcessCorsInvalidationBus);
  });
});
