import { Controller, Module, Post, type INestApplication } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { CachingCorsPolicyService, ICorsPolicyService, IdentityCorsModule, InMemoryClientStore, InProcessCorsInvalidationBus } from 'nest-identity-cors';
import { CORS_TYPEORM_ENTITIES, CorsClientEntity, CorsClientOriginEntity, TypeOrmClientStore, TypeOrmCorsPolicyService } from 'nest-identity-cors/typeorm';
import { createApp } from '../support/app.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { BACKENDS, QueryCounter, TestDatabase } from '../support/databases.js';

const SPA = 'https://spa.example';
const ADMIN = 'https://admin.example';
const EVIL = 'https://evil.example';

@Controller('connect')
class TokenController {
  @Post('token') token() { return { access_token: 't' }; }
}

const acao = (res: request.Response) => res.headers['access-control-allow-origin'];

describe.each(BACKENDS)('TypeORM client store on %s', (backend) => {
  let db: TestDatabase;
  let ds: DataSource;
  let counter: QueryCounter;
  let bus: InProcessCorsInvalidationBus;
  let store: TypeOrmClientStore;

  beforeAll(async () => {
    db = await TestDatabase.create(backend);
    counter = new QueryCounter();
    ds = await db.open({ logger: counter });
  });
  afterAll(() => db.dispose());
  beforeEach(async () => {
    await ds.getRepository(CorsClientOriginEntity).createQueryBuilder().delete().execute();
    await ds.getRepository(CorsClientEntity).createQueryBuilder().delete().execute();
    bus = new InProcessCorsInvalidationBus();
    store = new TypeOrmClientStore(ds, { bus });
  });

  describe('store', () => {
    it('saves clients with origins in the browser serialization and reads them back', async () => {
      await store.upsert({ clientId: 'spa', allowedCorsOrigins: ['HTTPS://Spa.Example:443', 'http://localhost:4200', 'https://spa.example'] });
      expect(await store.findClientById('spa')).toEqual({ clientId: 'spa', enabled: true, allowedCorsOrigins: ['http://localhost:4200', SPA] });
      const rows = await ds.getRepository(CorsClientOriginEntity).find({ order: { origin: 'ASC' } });
      expect(rows.map((r) => r.origin)).toEqual(['http://localhost:4200', SPA]);
      expect(await store.findClientById('nobody')).toBeUndefined();
    });

    it('rejects invalid origins on write with the same message as the in-memory store, and writes nothing', async () => {
      const bad = { clientId: 'spa', allowedCorsOrigins: [SPA, 'https://spa.example/callback', '*'] };
      const inMemory = (() => {
        try {
          new InMemoryClientStore([bad]);
        } catch (error) {
          return (error as Error).message;
        }
      })();
      await expect(store.upsert(bad)).rejects.toThrow(inMemory);
      expect(inMemory).toMatch(/allowedCorsOrigins\[1\] 'https:\/\/spa\.example\/callback' is a URL, not an origin: use 'https:\/\/spa\.example'/);
      expect(await store.findClientById('spa')).toBeUndefined();
      await store.upsert({ clientId: 'spa', allowedCorsOrigins: [SPA] });
      await expect(store.addOrigin('spa', 'spa.example')).rejects.toThrow(/client 'spa': 'spa\.example' is not an origin/);
      await expect(store.addOrigin('ghost', SPA)).rejects.toThrow(/client 'ghost' does not exist: create it with upsert/);
      await expect(store.upsert({ clientId: 'x'.repeat(201), allowedCorsOrigins: [] })).rejects.toThrow(/is 201 characters long: the cors_clients\.clientId column holds at most 200/);
      await expect(store.setEnabled('spa', 'yes' as unknown as boolean)).rejects.toThrow(/client 'spa': enabled must be true or false \(got "yes"\)/);
    });

    it('keeps one row per client and origin: the database refuses a duplicate', async () => {
      await store.upsert({ clientId: 'spa', allowedCorsOrigins: [SPA] });
      const client = await ds.getRepository(CorsClientEntity).findOneByOrFail({ clientId: 'spa' });
      await expect(ds.getRepository(CorsClientOriginEntity).insert({ client: { id: client.id }, origin: SPA })).rejects.toThrow(/unique|duplicate/i);
      await store.addOrigin('spa', SPA); // already there: nothing to do
      expect((await store.findClientById('spa'))?.allowedCorsOrigins).toEqual([SPA]);
    });

    it('concurrent writes, to many clients and to one, all land', async () => {
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.upsert({ clientId: `c${i}`, allowedCorsOrigins: [`https://c${i}.example`] })));
      await store.upsert({ clientId: 'one', allowedCorsOrigins: [] });
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.addOrigin('one', `https://o${i}.example`)));
      expect((await store.findClientById('one'))?.allowedCorsOrigins).toHaveLength(10);
      expect(await ds.getRepository(CorsClientEntity).count()).toBe(11);
    });

    it('publishes exactly the origins whose answer changed', async () => {
      const published: unknown[] = [];
      bus.subscribe((change) => published.push(change));
      await store.upsert({ clientId: 'spa', allowedCorsOrigins: [SPA, ADMIN] });
      await store.upsert({ clientId: 'spa', allowedCorsOrigins: [SPA, 'https://new.example'] });
      await store.addOrigin('spa', 'https://third.example');
      expect(await store.removeOrigin('spa', 'https://third.example')).toBe(true);
      expect(await store.removeOrigin('spa', 'https://third.example')).toBe(false);
      await store.setEnabled('spa', false);
      await store.setEnabled('spa', false);
      await store.setEnabled('spa', true);
      await store.invalidateClient('spa');
      expect(await store.remove('spa')).toBe(true);
      expect(await store.remove('spa')).toBe(false);
      const sorted = (change: unknown) => ({ origins: [...(change as { origins: string[] }).origins].sort() });
      expect(published.map(sorted)).toEqual([
        { origins: [ADMIN, SPA] },
        { origins: [ADMIN, 'https://new.example'] },
        { origins: ['https://third.example'] },
        { origins: ['https://third.example'] },
        { origins: ['https://new.example', SPA] },
        { origins: ['https://new.example', SPA] },
        { origins: ['https://new.example', SPA] },
        { origins: ['https://new.example', SPA] },
      ]);
    });
  });

  describe('TypeOrmCorsPolicyService', () => {
    it('allows an origin of an enabled client, with one query per decision', async () => {
      await store.upsert({ clientId: 'spa', allowedCorsOrigins: [SPA] });
      await store.upsert({ clientId: 'off', allowedCorsOrigins: [ADMIN], enabled: false });
      await store.upsert({ clientId: 'also', allowedCorsOrigins: [SPA] });
      const service = new TypeOrmCorsPolicyService(ds);
      const before = counter.lookups;
      expect(await service.isOriginAllowed(SPA)).toBe(true);
      expect(await service.isOriginAllowed(ADMIN)).toBe(false);
      expect(await service.isOriginAllowed(EVIL)).toBe(false);
      expect(counter.lookups - before).toBe(3);
      // Not a serialized origin: denied without a query.
      expect(await service.isOriginAllowed('HTTPS://SPA.EXAMPLE')).toBe(false);
      expect(await service.isOriginAllowed("https://x.example' OR 1=1 --")).toBe(false);
      expect(counter.lookups - before).toBe(3);
    });

    it('logs nothing per decision: the CORS handler logs each denial once, with its reason (RULES 21)', async () => {
      const logger = new CaptureLogger();
      const service = new TypeOrmCorsPolicyService(ds, logger);
      expect(await service.isOriginAllowed(EVIL)).toBe(false);
      expect(await service.isOriginAllowed('HTTPS://SPA.EXAMPLE')).toBe(false);
      expect(logger.at('debug')).toEqual([]);
    });

    it('looks origins up through an index', async () => {
      const meta = ds.getMetadata(CorsClientOriginEntity);
      expect(meta.indices.map((index) => index.columns.map((c) => c.propertyName))).toContainEqual(['origin']);
      const table = await ds.createQueryRunner().getTable(meta.tablePath);
      expect(table?.indices.some((index) => index.columnNames.join() === 'origin')).toBe(true);
    });
  });

  describe('in a Nest app, behind the cache', () => {
    let app: INestApplication;
    let service: CachingCorsPolicyService;
    beforeEach(async () => {
      service = new CachingCorsPolicyService(new TypeOrmCorsPolicyService(ds), { bus });
      app = await createApp(
        {
          imports: [IdentityCorsModule.forRoot({}, { corsPolicyService: { useValue: service } })],
          controllers: [TokenController],
        },
        { explainerAgreement: 'at-response' }, // store writes between requests
      );
    });
    afterEach(() => app.close());
    const token = (origin: string) => request(app.getHttpServer()).post('/connect/token').set('Origin', origin);

    it('allows client origins, denies others, and honours store writes at once', async () => {
      await store.upsert({ clientId: 'spa', allowedCorsOrigins: [SPA] });
      expect(acao(await token(SPA))).toBe(SPA);
      expect(acao(await token(ADMIN))).toBeUndefined();
      await store.addOrigin('spa', ADMIN);
      expect(acao(await token(ADMIN))).toBe(ADMIN);
      await store.setEnabled('spa', false);
      expect(acao(await token(SPA))).toBeUndefined();
      await store.setEnabled('spa', true);
      await store.removeOrigin('spa', SPA);
      expect(acao(await token(SPA))).toBeUndefined();
      expect(acao(await token(ADMIN))).toBe(ADMIN);
    });

    it('answers a warm origin from the cache without the database, and calls an overriding subclass as itself', async () => {
      await store.upsert({ clientId: 'spa', allowedCorsOrigins: [SPA] });
      expect(acao(await token(SPA))).toBe(SPA);
      const before = counter.lookups;
      expect(acao(await token(SPA))).toBe(SPA);
      expect(counter.lookups).toBe(before);
      await app.close();

      class NoAdmins extends CachingCorsPolicyService {
        override async isOriginAllowed(origin: string): Promise<boolean> {
          return origin !== SPA && (await super.isOriginAllowed(origin));
        }
      }
      service = new NoAdmins(new TypeOrmCorsPolicyService(ds), { bus });
      app = await createApp({ imports: [IdentityCorsModule.forRoot({}, { corsPolicyService: { useValue: service } })], controllers: [TokenController] });
      expect(acao(await token(SPA))).toBeUndefined();
      expect(acao(await token(SPA))).toBeUndefined();
    });

    it('100 concurrent first requests for one origin cause one database query', async () => {
      await store.upsert({ clientId: 'spa', allowedCorsOrigins: [SPA] });
      const before = counter.lookups;
      const responses = await Promise.all(Array.from({ length: 100 }, () => token(SPA)));
      expect(responses.map(acao)).toEqual(Array(100).fill(SPA));
      expect(counter.lookups - before).toBe(1);
      await Promise.all(Array.from({ length: 20 }, () => token(SPA)));
      expect(counter.lookups - before).toBe(1);
    });
  });

  it('plugs into an app that uses @nestjs/typeorm through getDataSourceToken()', async () => {
    await store.upsert({ clientId: 'spa', allowedCorsOrigins: [SPA] });
    const connection = backend === 'sqlite'
      ? { type: 'sqljs' as const, location: ds.options.type === 'sqljs' ? ds.options.location : undefined, autoSave: true }
      : { type: 'postgres' as const, url: process.env.DATABASE_URL, schema: (ds.options as { schema?: string }).schema };
    @Module({
      imports: [
        TypeOrmModule.forRoot({ ...connection, entities: [...CORS_TYPEORM_ENTITIES], synchronize: true }),
        IdentityCorsModule.forRoot(
          {},
          {
            corsPolicyService: {
              useFactory: (dataSource: DataSource) => new CachingCorsPolicyService(new TypeOrmCorsPolicyService(dataSource), { ttl: 60_000 }),
              inject: [getDataSourceToken()],
            },
          },
        ),
      ],
      controllers: [TokenController],
    })
    class AppModule {}
    const nest = await createApp({ imports: [AppModule] });
    try {
      expect(nest.get(ICorsPolicyService, { strict: false })).toBeInstanceOf(CachingCorsPolicyService);
      const res = await request(nest.getHttpServer()).post('/connect/token').set('Origin', SPA);
      expect(acao(res)).toBe(SPA);
      expect(acao(await request(nest.getHttpServer()).post('/connect/token').set('Origin', EVIL))).toBeUndefined();
    } finally {
      await nest.close();
    }
  });
});
