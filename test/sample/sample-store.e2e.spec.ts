import { connect } from 'node:net';
import request from 'supertest';
import { CachingCorsPolicyService, ICorsPolicyService } from 'nest-identity-cors';
import { CorsClientEntity, TypeOrmClientStore, TypeOrmCorsPolicyService } from 'nest-identity-cors/typeorm';
import { bootstrap, optionsFromEnv } from '../../sample-app/src/bootstrap.js';
import { BACKENDS, TestDatabase } from '../support/databases.js';
import { freePort, samplePlatforms, startTestSample, tempClientsFile, type TestSample } from '../support/sample.js';

const acao = (res: request.Response) => res.headers['access-control-allow-origin'];
const vary = (res: request.Response) => String(res.headers.vary ?? '');

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

// Each suite gets its own database (a SQLite file, or a fresh PostgreSQL schema), dropped at the end,
// so the sample's seed never meets the rows of other tests, the benchmarks or an earlier run. Each backend on
// each of Nest's platforms.
const cases = BACKENDS.flatMap((backend) => samplePlatforms().map((platform) => [backend, platform] as const));
describe.each(cases)('sample app with CLIENT_STORE=typeorm on %s, on %s', (backend, platform) => {
  let db: TestDatabase;
  let sample: TestSample | undefined;
  const server = () => request(sample!.app.getHttpServer());

  beforeAll(async () => {
    db = await TestDatabase.create(backend);
    sample = await startTestSample({ clientStore: 'typeorm', database: db.connection, platform });
  });
  afterAll(async () => {
    await sample?.stop();
    await db?.dispose();
  });

  it('decides identity CORS through the cached database service, with the clients file seeded into the database', async () => {
    const service = sample!.app.get<ICorsPolicyService>(ICorsPolicyService);
    expect(service).toBeInstanceOf(CachingCorsPolicyService);
    expect((service as CachingCorsPolicyService).inner).toBeInstanceOf(TypeOrmCorsPolicyService);
    expect(await sample!.app.get(TypeOrmClientStore).findClientById('spa')).toEqual({ clientId: 'spa', enabled: true, allowedCorsOrigins: [sample!.allowedOrigin] });
  });

  it('allows discovery and userinfo for http://localhost:<first SPA port> and denies the second', async () => {
    const { allowedOrigin, deniedOrigin } = sample!;
    const discovery = await server().get('/.well-known/openid-configuration').set('Origin', allowedOrigin);
    expect(discovery.status).toBe(200);
    expect(acao(discovery)).toBe(allowedOrigin);
    const discoveryDenied = await server().get('/.well-known/openid-configuration').set('Origin', deniedOrigin);
    expect(discoveryDenied.status).toBe(200);
    expect(acao(discoveryDenied)).toBeUndefined();
    expect(vary(discoveryDenied)).toMatch(/\bOrigin\b/);

    const preflight = (origin: string) =>
      server().options('/connect/userinfo').set('Origin', origin).set('Access-Control-Request-Method', 'GET').set('Access-Control-Request-Headers', 'authorization');
    const allowed = await preflight(allowedOrigin);
    expect(allowed.status).toBe(204);
    expect(acao(allowed)).toBe(allowedOrigin);
    expect(allowed.headers['access-control-allow-headers']).toBe('authorization');
    expect(allowed.headers['access-control-max-age']).toBe('600');
    const denied = await preflight(deniedOrigin);
    expect(denied.status).toBe(204);
    expect(acao(denied)).toBeUndefined();
    expect(vary(denied)).toMatch(/\bOrigin\b/);

    // without a token: the 401 carries CORS headers for the allowed origin only
    const userinfo = await server().get('/connect/userinfo').set('Origin', allowedOrigin);
    expect(userinfo.status).toBe(401);
    expect(acao(userinfo)).toBe(allowedOrigin);
    expect(userinfo.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
    const userinfoDenied = await server().get('/connect/userinfo').set('Origin', deniedOrigin);
    expect(userinfoDenied.status).toBe(401);
    expect(acao(userinfoDenied)).toBeUndefined();
    expect(vary(userinfoDenied)).toMatch(/\bOrigin\b/);
  });

  it('seeds idempotently: a second start on the same database replaces the client instead of adding one', async () => {
    const first = sample!;
    await first.stop();
    sample = undefined;
    sample = await startTestSample({ clientStore: 'typeorm', database: db.connection, platform }); // its clients file lists other ports
    expect(acao(await server().get('/.well-known/openid-configuration').set('Origin', sample.allowedOrigin))).toBe(sample.allowedOrigin);
    expect(acao(await server().get('/.well-known/openid-configuration').set('Origin', first.allowedOrigin))).toBeUndefined();
    const ds = await db.open();
    expect(await ds.getRepository(CorsClientEntity).count()).toBe(1);
    expect(await new TypeOrmClientStore(ds).findClientById('spa')).toEqual({ clientId: 'spa', enabled: true, allowedCorsOrigins: [sample.allowedOrigin] });
  });

  it("stops at startup with the store's fix-it message for a URL given as a CORS origin, naming the clients file", async () => {
    const clients = await tempClientsFile([{ clientId: 'bad-origin', redirectUris: ['https://foo:123/callback.html'], allowedCorsOrigins: ['https://foo:123/'] }]);
    try {
      const port = await freePort();
      const started = bootstrap({ port, spaPorts: [await freePort()], clientsFile: clients.file, clientStore: 'typeorm', database: db.connection, platform, logger: false });
      await expect(started).rejects.toThrow(`Clients file ${clients.file}:\n  - client 'bad-origin': allowedCorsOrigins[0] 'https://foo:123/' is a URL, not an origin: use 'https://foo:123'`);
      expect(await listening(port)).toBe(false);
      const ds = await db.open();
      expect(await new TypeOrmClientStore(ds).findClientById('bad-origin')).toBeUndefined(); // nothing was written
    } finally {
      await clients.remove();
    }
  });
});

describe('sample app client store configuration', () => {
  it('reads CLIENT_STORE, and DATABASE_URL / SQLITE_FILE only for the typeorm store', () => {
    expect(optionsFromEnv({ CLIENT_STORE: 'memory' })).toEqual({ clientStore: 'memory' });
    expect(optionsFromEnv({ CLIENT_STORE: 'typeorm' })).toEqual({ clientStore: 'typeorm' });
    expect(optionsFromEnv({ CLIENT_STORE: 'typeorm', DATABASE_URL: 'postgres://u@db:5432/identity' })).toEqual({ clientStore: 'typeorm', database: { url: 'postgres://u@db:5432/identity' } });
    expect(optionsFromEnv({ CLIENT_STORE: 'typeorm', SQLITE_FILE: 'data/identity.sqlite' })).toEqual({ clientStore: 'typeorm', database: { sqliteFile: 'data/identity.sqlite' } });
    // set for the tests, say, but the sample runs in memory
    expect(optionsFromEnv({ DATABASE_URL: 'postgres://u@db:5432/identity' })).toEqual({});
  });

  it('rejects an unknown CLIENT_STORE, naming it and the allowed values', async () => {
    const message = "CLIENT_STORE 'redis' is not a client store: use 'memory' or 'typeorm'";
    expect(() => optionsFromEnv({ CLIENT_STORE: 'redis' })).toThrow(message);
    await expect(bootstrap({ clientStore: 'redis' as never, logger: false })).rejects.toThrow(message);
    expect(() => optionsFromEnv({ CLIENT_STORE: 'TypeORM' })).toThrow("CLIENT_STORE 'TypeORM' is not a client store: use 'memory' or 'typeorm'");
  });

  it('rejects an ambiguous or non-PostgreSQL database, without echoing the URL', async () => {
    await expect(bootstrap({ clientStore: 'typeorm', database: { url: 'postgres://u@db/identity', sqliteFile: 'x.sqlite' }, logger: false })).rejects.toThrow(
      'DATABASE_URL and SQLITE_FILE are both set: unset one (DATABASE_URL uses PostgreSQL, SQLITE_FILE a SQLite file)',
    );
    const wrong = bootstrap({ clientStore: 'typeorm', database: { url: 'mysql://root:secret@db/identity' }, logger: false });
    await expect(wrong).rejects.toThrow("DATABASE_URL with scheme 'mysql:' is not a PostgreSQL URL: use e.g. 'postgres://user@127.0.0.1:5432/identity', or unset it for SQLite");
    await expect(wrong).rejects.not.toThrow('secret');
  });
});
