// The benchmark app, one per configuration (see CONFIGS in fixtures.mjs): plain ESM over the BUILT package
// (dist/), decorators applied by hand, so it runs without a TypeScript loader. Used by server.mjs (over HTTP)
// and layer.mjs (the CORS layer alone).
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ALLOWED_ORIGIN, CLIENT_ORIGINS, CONFIGS, FASTIFY_CORS_OPTIONS, HOST_ORIGINS, IDENTITY_EXPOSED_HEADERS_VALUE, LARGE_CLIENT_COUNT, isFastify, largeClientOrigin, recipeOf } from './fixtures.mjs';

class PingController {
  ping() {
    return { ok: true };
  }
}
// The same handler serves a host route and an identity path, so every configuration runs the same app code.
Controller()(PingController);
Get(['api/ping', 'connect/userinfo'])(PingController.prototype, 'ping', Object.getOwnPropertyDescriptor(PingController.prototype, 'ping'));

const lib = () => import('../dist/index.js');

/**
 * Module imports and a hook run on the app before listen(), per configuration; `options` go into every forRoot.
 * fa–fe take the recipe of a–e (CONFIGS[config].like), on Fastify.
 */
async function configure(config, options) {
  switch (recipeOf(config)) {
    case 'a': // no CORS
      return { imports: [] };
    case 'b': // Nest's own CORS: expressjs/cors on Express, @fastify/cors on Fastify (options as (b)'s answers, see FASTIFY_CORS_OPTIONS)
      return { imports: [], before: (app) => app.enableCors(isFastify(config) ? FASTIFY_CORS_OPTIONS : { origin: HOST_ORIGINS }) };
    case 'h': // no decision at all: what any CORS layer costs at least (see FLOOR_PREFLIGHT_HEADERS)
      return { imports: [], before: (app) => sendFixedCorsHeaders(app, isFastify(config), FLOOR_ALLOWED_HEADERS) };
    case 'i': // the same, with an identity path's three headers
      return { imports: [], before: (app) => sendFixedCorsHeaders(app, isFastify(config), FLOOR_IDENTITY_HEADERS) };
    case 'c': {
      // this library, a host policy applied to every route (the analogue of enableCors)
      const { IdentityCorsModule } = await lib();
      return { imports: [IdentityCorsModule.forRoot({ ...options, policies: { app: (b) => b.withOrigins(...HOST_ORIGINS) }, globalPolicy: 'app' })] };
    }
    case 'd': {
      // this library on an identity path, 3 in-memory clients
      const { IdentityCorsModule } = await lib();
      if (process.env.BENCH_DB_CONTROL === '1' && process.env.DATABASE_URL) await (await setUpDatabase(postgres(process.env.DATABASE_URL))).destroy();
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
      const { TypeOrmCorsPolicyService } = await import('../dist/store/typeorm/index.js');
      const url = process.env.DATABASE_URL;
      let ds;
      if (!url) ds = await setUpDatabase({ type: 'sqljs' }); // in memory: only this process can fill it
      else if (process.env.BENCH_DB_SETUP === 'in-process') ds = await setUpDatabase(postgres(url));
      else {
        // Tables and rows come from another process, as migrations and a seed would in production: TypeORM's
        // synchronize and raw queries run in the server's own process slow its every request afterwards (below).
        setUpDatabaseElsewhere();
        ds = await connect(postgres(url));
      }
      const service = new CachingCorsPolicyService(new TypeOrmCorsPolicyService(ds), { ttl: 15 * 60_000 });
      return { imports: [IdentityCorsModule.forRoot({ ...options, identity: {} }, { corsPolicyService: { useValue: service } })] };
    }
    default:
      throw new Error(`unknown configuration '${config}': use one of ${Object.keys(CONFIGS).join(', ')}`);
  }
}

/**
 * The headers of (d)'s answer to the preflight scenario, fixed: (h)'s preflight answer. A preflight any CORS layer
 * answers as (d) does sends these, so (h) and (fh) show what that costs with no decision at all.
 */
const FLOOR_PREFLIGHT_HEADERS = [
  'Access-Control-Allow-Origin', ALLOWED_ORIGIN,
  'Access-Control-Allow-Methods', 'GET',
  'Access-Control-Allow-Headers', 'authorization',
  'Vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
];

/** An allowed GET's CORS headers as the library writes them: with a host policy ((c)), and on an identity path ((d)). */
const FLOOR_ALLOWED_HEADERS = [['Access-Control-Allow-Origin', ALLOWED_ORIGIN], ['Vary', 'Origin']];
const FLOOR_IDENTITY_HEADERS = [['Access-Control-Allow-Origin', ALLOWED_ORIGIN], ['Access-Control-Expose-Headers', IDENTITY_EXPOSED_HEADERS_VALUE], ['Vary', 'Origin']];

/**
 * (h), (i), (fh) and (fi): an allowed GET's CORS headers (FLOOR_ALLOWED_HEADERS or FLOOR_IDENTITY_HEADERS) written on
 * every actual request (an Express middleware; a Fastify onRequest hook, into the reply's headers), and every
 * preflight answered 204 with FLOOR_PREFLIGHT_HEADERS on the HTTP server, before the framework, as the library
 * answers them: the same bytes as (c) / (d) send, and nothing decided.
 */
function sendFixedCorsHeaders(app, fastify, headers) {
  if (fastify) {
    const lowerCase = headers.map(([name, value]) => [name.toLowerCase(), value]);
    app.getHttpAdapter().getInstance().addHook('onRequest', (_request, reply, done) => {
      for (const [name, value] of lowerCase) reply.header(name, value);
      done();
    });
  } else {
    app.use((_req, res, next) => {
      for (const [name, value] of headers) res.setHeader(name, value);
      next();
    });
  }
  const server = app.getHttpServer();
  const [framework] = server.listeners('request');
  server.removeAllListeners('request');
  server.on('request', (req, res) => {
    if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) return framework.call(server, req, res);
    res.writeHead(204, FLOOR_PREFLIGHT_HEADERS);
    res.end();
  });
}

export const postgres = (url) => ({ type: 'postgres', url });

async function connect(options) {
  const { CORS_TYPEORM_ENTITIES } = await import('../dist/store/typeorm/index.js');
  const { DataSource } = await import('typeorm');
  return new DataSource({ ...options, entities: [...CORS_TYPEORM_ENTITIES] }).initialize();
}

/**
 * (f)'s tables (TypeORM's synchronize) and its 3 clients, in this process; resolves to the open DataSource.
 * In a server process this has a cost of its own: afterwards, on PostgreSQL, every request costs about 15 – 25 %
 * more CPU (preflights), whatever answers CORS. So (f) on PostgreSQL runs it in another process (bench/set-up-database.mjs),
 * unless BENCH_DB_SETUP=in-process; BENCH_DB_CONTROL=1 runs it in (d) too, which then costs as much. docs/internals.md, TypeORM in the server process.
 */
export async function setUpDatabase(options) {
  const { TypeOrmClientStore } = await import('../dist/store/typeorm/index.js');
  const ds = await connect({ ...options, synchronize: true });
  const store = new TypeOrmClientStore(ds);
  for (const [i, origin] of CLIENT_ORIGINS.entries()) await store.upsert({ clientId: `client-${i}`, allowedCorsOrigins: [origin], enabled: true });
  return ds;
}

function setUpDatabaseElsewhere() {
  const script = fileURLToPath(new URL('./set-up-database.mjs', import.meta.url));
  const { status, stderr } = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  if (status !== 0) throw new Error(`bench/set-up-database.mjs failed (${status}): ${stderr}`);
}

/**
 * The Nest app of one configuration, created but not initialized. `mount`: 'early' = useIdentityCors(app)
 * (CORS handled on the HTTP server before Express, the default; on Fastify, the edge takes the adapter's request
 * hook at once); 'module' = the module's own mount; 'express' = useIdentityCors(app) with handleBeforeExpress:
 * false (CORS handled by the middleware, in Express; on Fastify the same as 'early').
 */
export async function createBenchApp(config, mount = 'early') {
  const { imports, before } = await configure(config, { handleBeforeExpress: mount !== 'express' });
  class AppModule {}
  Module({ imports, controllers: [PingController] })(AppModule);
  const logger = ['error', 'warn'];
  const app = isFastify(config)
    ? await NestFactory.create(AppModule, new (await import('@nestjs/platform-fastify')).FastifyAdapter(), { logger })
    : await NestFactory.create(AppModule, { logger });
  before?.(app);
  if (['c', 'd', 'e', 'f'].includes(recipeOf(config)) && mount !== 'module') (await lib()).useIdentityCors(app);
  return app;
}
