// The benchmark app, one per configuration (see CONFIGS in fixtures.mjs): plain ESM over the BUILT package
// (dist/), decorators applied by hand, so it runs without a TypeScript loader. Used by server.mjs (over HTTP)
// and layer.mjs (the CORS layer alone).
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ALLOWED_ORIGIN, CLIENT_ORIGINS, HOST_ORIGINS, LARGE_CLIENT_COUNT, largeClientOrigin } from './fixtures.mjs';

class PingController {
  ping() {
    return { ok: true };
  }
}
// The same handler serves a host route and an identity path, so every configuration runs the same app code.
Controller()(PingController);
Get(['api/ping', 'connect/userinfo'])(PingController.prototype, 'ping', Object.getOwnPropertyDescriptor(PingController.prototype, 'ping'));

const lib = () => import('../dist/index.js');

/** Module imports and a hook run on the app before listen(), per configuration; `options` go into every forRoot. */
async function configure(config, options) {
  switch (config) {
    case 'a': // no CORS
      return { imports: [] };
    case 'b': // Nest's own CORS (expressjs/cors)
      return { imports: [], before: (app) => app.enableCors({ origin: HOST_ORIGINS }) };
    case 'c': {
      // this library, a host policy applied to every route (the analogue of enableCors)
      const { IdentityCorsModule } = await lib();
      return { imports: [IdentityCorsModule.forRoot({ ...options, policies: { app: (b) => b.withOrigins(...HOST_ORIGINS) }, globalPolicy: 'app' })] };
    }
    case 'd': {
      // this library on an identity path, 3 in-memory clients
      const { IdentityCorsModule } = await lib();
      if (process.env.BENCH_DB_CONTROL === '1' && process.env.DATABASE_URL) await touchDatabase(process.env.DATABASE_URL);
      const clients = CLIENT_ORIGINS.map((origin, i) => ({ clientId: `client-${i}`, allowedCorsOrigins: [origin] }));
      return { imports: [IdentityCorsModule.forRoot({ ...options, identity: { clients } })] };
    }
    case 'e': {
      // 100,000 in-memory clients, the allowed origin among them
      const { IdentityCorsModule } = await lib();
      const clients = Array.from({ length: LARGE_CLIENT_COUNT }, (_, i) => ({ clientId: `client-${i}`, allowedCorsOrigins: [largeClientOrigin(i)] }));
      clients[LARGE_CLIENT_COUNT >> 1].allowedCorsOrigins.push(ALLOWED_ORIGIN);
      return { imports: [IdentityCorsModule.forRoot({ ...options, identity: { clients } })] };
    }
    case 'f': {
      // the database store (SQLite via sql.js, or DATABASE_URL → PostgreSQL) behind the cache, the same 3 clients as (d)
      const { IdentityCorsModule, CachingCorsPolicyService } = await lib();
      const { TypeOrmClientStore, TypeOrmCorsPolicyService, CORS_TYPEORM_ENTITIES } = await import('../dist/store/typeorm/index.js');
      const { DataSource } = await import('typeorm');
      const url = process.env.DATABASE_URL;
      const ds = new DataSource(
        url
          ? { type: 'postgres', url, entities: [...CORS_TYPEORM_ENTITIES], synchronize: true }
          : { type: 'sqljs', entities: [...CORS_TYPEORM_ENTITIES], synchronize: true },
      );
      await ds.initialize();
      const store = new TypeOrmClientStore(ds);
      for (const [i, origin] of CLIENT_ORIGINS.entries()) await store.upsert({ clientId: `client-${i}`, allowedCorsOrigins: [origin], enabled: true });
      const service = new CachingCorsPolicyService(new TypeOrmCorsPolicyService(ds), { ttl: 15 * 60_000 });
      return { imports: [IdentityCorsModule.forRoot({ ...options, identity: {} }, { corsPolicyService: { useValue: service } })] };
    }
    default:
      throw new Error(`unknown configuration '${config}': use one of a, b, c, d, e, f`);
  }
}

/**
 * The control for (f) on PostgreSQL (BENCH_DB_CONTROL=1): connects TypeORM as (f) does, queries, and disconnects,
 * so that (d) has run PostgreSQL's driver too. Having run it costs a process's every request (measured: about
 * 4 µs of CPU per preflight), connected or not, whatever answers CORS.
 */
async function touchDatabase(url) {
  const { CORS_TYPEORM_ENTITIES } = await import('../dist/store/typeorm/index.js');
  const { DataSource } = await import('typeorm');
  const ds = new DataSource({ type: 'postgres', url, entities: [...CORS_TYPEORM_ENTITIES], synchronize: true });
  await ds.initialize();
  for (let i = 0; i < 5; i++) await ds.query('SELECT 1');
  await ds.destroy();
}

/**
 * The Nest app of one configuration, created but not initialized. `mount`: 'early' = useIdentityCors(app)
 * (CORS handled on the HTTP server before Express, the default); 'module' = the module's own mount; 'express' =
 * useIdentityCors(app) with handleBeforeExpress: false (CORS handled by the middleware, in Express).
 */
export async function createBenchApp(config, mount = 'early') {
  const { imports, before } = await configure(config, { handleBeforeExpress: mount !== 'express' });
  class AppModule {}
  Module({ imports, controllers: [PingController] })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  before?.(app);
  if (['c', 'd', 'e', 'f'].includes(config) && mount !== 'module') (await lib()).useIdentityCors(app);
  return app;
}
