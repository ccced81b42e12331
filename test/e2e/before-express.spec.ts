// Express only (jest.config.js leaves it out of the project "fastify"): handleBeforeExpress puts the library's
// listener on the HTTP server ahead of Express's app, and these tests watch what reaches Express after it. On
// Fastify the library runs in the FastifyAdapter's first onRequest hook instead, which the other suites cover.
import { createServer } from 'node:http';
import { Body, Controller, Get, Header, Module, Options, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import { DisableCors, EnableCors, IdentityCorsModule, IdentityCorsOptionsError, useIdentityCors, type IdentityCorsModuleOptions } from 'nest-identity-cors';
import { ExpressCorsMiddleware } from '../../lib/platform/express/express-cors.middleware.js';
import { CorsHandler } from '../../lib/handler/cors-handler.js';
import { breakCorsService } from '../support/break-cors-service.js';
import { CaptureLogger } from '../support/capture-logger.js';

const A = 'https://a.example';
const CLIENT = 'https://spa.example';

@Controller()
class AppController {
  @Get('api/items') @EnableCors('api') items() { return ['item']; }
  @Post('api/items') @EnableCors('partner') create() { return 'created'; }
  @Get('api/private') @DisableCors() private() { return 'private'; }
  @Options('api/private') @DisableCors() privateOptions() { return 'routed'; }
  @Get('api/open') open() { return 'open'; }
  @Get('api/vary') @Header('Vary', 'Accept-Encoding') vary() { return 'varies'; }
  @Get('connect/userinfo') userinfo() { return { sub: '1' }; }
  @Post('connect/token') token(@Body() body: unknown) { return body; }
}

const OPTIONS: IdentityCorsModuleOptions = {
  policies: {
    api: (b) => b.withOrigins(A).withHeaders('Authorization'),
    partner: (b) => b.withOrigins('https://partner.example').withMethods('POST'),
    everywhere: (b) => b.withOrigins(A),
  },
  globalPolicy: 'everywhere',
  identity: { clients: [{ clientId: 'spa', allowedCorsOrigins: [CLIENT] }], preflightCacheDuration: 600 },
};

/**
 * An app whose main.ts mounts a middleware of its own before anything else; it records what reaches Express,
 * and the Access-Control-Allow-Origin each request already had there. `beforeInit` runs last before
 * app.init(), where the module mounts unless mounted early.
 */
async function createApp(
  extra: Partial<IdentityCorsModuleOptions>,
  mountEarly: boolean,
  beforeInit?: (app: INestApplication) => void,
  extras?: Parameters<typeof IdentityCorsModule.forRoot>[1],
) {
  @Module({ imports: [IdentityCorsModule.forRoot({ ...OPTIONS, ...extra }, extras)], controllers: [AppController] })
  class AppModule {}
  const seenByExpress: string[] = [];
  const allowedBeforeExpress = new Map<string, unknown>();
  const logger = new CaptureLogger();
  const app = await NestFactory.create(AppModule, { logger, abortOnError: false });
  app.use((req: { method: string; url: string }, res: { getHeader(name: string): unknown }, next: () => void) => {
    seenByExpress.push(`${req.method} ${req.url}`);
    allowedBeforeExpress.set(`${req.method} ${req.url}`, res.getHeader('access-control-allow-origin'));
    next();
  });
  if (mountEarly) useIdentityCors(app);
  beforeInit?.(app);
  await app.init();
  return { app, seenByExpress, allowedBeforeExpress, logger };
}

const preflight = (app: INestApplication, path: string, origin: string, method: string, headers?: string) => {
  const req = request(app.getHttpServer()).options(path).set('Origin', origin).set('Access-Control-Request-Method', method);
  return headers === undefined ? req : req.set('Access-Control-Request-Headers', headers);
};

describe.each([
  ['the module mounts the middleware', false],
  ['useIdentityCors(app) mounts it', true],
])('handleBeforeExpress (the default), when %s', (_label, mountEarly) => {
  let app: INestApplication;
  let seenByExpress: string[];
  let logger: CaptureLogger;
  let allowedBeforeExpress: Map<string, unknown>;

  beforeAll(async () => {
    ({ app, seenByExpress, logger, allowedBeforeExpress } = await createApp({}, mountEarly));
  });
  afterAll(() => app.close());

  it("answers a route's preflight with that route's policy, before Express", async () => {
    const res = await preflight(app, '/api/items', A, 'GET', 'authorization');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers['access-control-allow-headers']).toBe('Authorization');
    expect(res.headers.vary).toBe('Origin');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(seenByExpress).not.toContain('OPTIONS /api/items');
    // the handler of POST on the same path has another policy
    const post = await preflight(app, '/api/items', A, 'POST');
    expect(post.status).toBe(204);
    expect(post.headers['access-control-allow-origin']).toBeUndefined();
    // a route without decorators gets the global policy
    const open = await preflight(app, '/api/open', A, 'GET');
    expect(open.status).toBe(204);
    expect(open.headers['access-control-allow-origin']).toBe(A);
    expect(seenByExpress).not.toContain('OPTIONS /api/open');
  });

  it('answers identity preflights from the clients', async () => {
    const res = await preflight(app, '/connect/userinfo', CLIENT, 'GET', 'authorization');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(CLIENT);
    expect(res.headers['access-control-allow-headers']).toBe('authorization');
    expect(res.headers['access-control-max-age']).toBe('600');
    const denied = await preflight(app, '/connect/userinfo', A, 'GET');
    expect(denied.status).toBe(204);
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    expect(seenByExpress).not.toContain('OPTIONS /connect/userinfo');
  });

  it('hands preflights of routes without CORS, and every other request, to Express unchanged', async () => {
    const routed = await preflight(app, '/api/private', A, 'GET');
    expect(routed.status).toBe(200);
    expect(routed.text).toBe('routed');
    expect(routed.headers['access-control-allow-origin']).toBeUndefined();
    expect(seenByExpress).toContain('OPTIONS /api/private');
    const get = await request(app.getHttpServer()).get('/api/items').set('Origin', A);
    expect(get.status).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBe(A);
    expect(get.headers['x-powered-by']).toBe('Express');
    expect(seenByExpress).toContain('GET /api/items');
  });

  it('hands a preflight of a path no route serves to Express, where the global policy still answers it', async () => {
    // Another 'request' listener (socket.io's, say) may serve such a path: the server-level answer leaves it alone.
    const res = await preflight(app, '/not/a/route', A, 'GET');
    expect(seenByExpress).toContain('OPTIONS /not/a/route');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(A);
  });

  it('hands a preflight whose handling failed to Express once, without handling it a second time there', async () => {
    const broken = breakCorsService(app, 'preflightHeaders');
    try {
      const res = await preflight(app, '/api/open', A, 'GET');
      expect(broken.calls()).toBe(1);
      expect(seenByExpress).toContain('OPTIONS /api/open');
      // Routing finds no OPTIONS handler; no CORS headers were sent.
      expect(res.status).toBe(404);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(logger.at('error').filter((line) => line.includes('CORS handling failed for OPTIONS /api/open'))).toHaveLength(1);
    } finally {
      broken.restore();
    }
    // The next preflight is answered on the server again.
    const again = await preflight(app, '/api/open', A, 'GET');
    expect(again.status).toBe(204);
    expect(seenByExpress.filter((line) => line === 'OPTIONS /api/open')).toHaveLength(1);
  });

  it('lets Express decide a preflight that may come from the server itself (its scheme depends on trust proxy)', async () => {
    const res = await request(app.getHttpServer())
      .options('/connect/userinfo')
      .set('Host', 'spa.example')
      .set('Origin', CLIENT)
      .set('Access-Control-Request-Method', 'GET');
    expect(res.status).toBe(204);
    expect(seenByExpress).toContain('OPTIONS /connect/userinfo');
  });

  it("writes an actual request's CORS headers before Express, and Vary: Origin after the app's own Vary", async () => {
    const res = await request(app.getHttpServer()).get('/api/vary').set('Origin', A);
    expect(res.status).toBe(200);
    expect(allowedBeforeExpress.get('GET /api/vary')).toBe(A);
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers.vary).toBe('Accept-Encoding, Origin');
    const none = await request(app.getHttpServer()).get('/api/items');
    expect(none.headers['access-control-allow-origin']).toBeUndefined();
    expect(none.headers.vary).toBe('Origin');
    const identity = await request(app.getHttpServer()).get('/connect/userinfo').set('Origin', CLIENT);
    expect(allowedBeforeExpress.get('GET /connect/userinfo')).toBe(CLIENT);
    expect(identity.headers['access-control-allow-origin']).toBe(CLIENT);
    expect(identity.headers.vary).toBe('Origin');
  });

  it('leaves requests it cannot decide as the middleware would to the middleware: unrouted paths, possibly same-origin identity requests', async () => {
    const unrouted = await request(app.getHttpServer()).get('/not/routed').set('Origin', A);
    expect(unrouted.status).toBe(404);
    expect(allowedBeforeExpress.get('GET /not/routed')).toBeUndefined();
    expect(unrouted.headers['access-control-allow-origin']).toBe(A);
    expect(unrouted.headers.vary).toBe('Origin');
    // Host spa.example: https://spa.example may be the server's own origin; without trust proxy Express says http.
    const maybeSame = await request(app.getHttpServer()).post('/connect/token').set('Host', 'spa.example').set('Origin', CLIENT).send({ grant: 'x' });
    expect(allowedBeforeExpress.get('POST /connect/token')).toBeUndefined();
    expect(maybeSame.body).toEqual({ grant: 'x' });
    expect(maybeSame.headers['access-control-allow-origin']).toBe(CLIENT);
    expect(maybeSame.headers.vary).toBe('Origin');
  });

  it('decides an identity request from the same host name on another port before Express: it cannot be the server\'s own origin', async () => {
    const otherPort = await request(app.getHttpServer()).post('/connect/token').set('Host', 'spa.example:3000').set('Origin', CLIENT).send({ grant: 'y' });
    expect(allowedBeforeExpress.get('POST /connect/token')).toBe(CLIENT);
    expect(otherPort.body).toEqual({ grant: 'y' });
    expect(otherPort.headers['access-control-allow-origin']).toBe(CLIENT);
    expect(otherPort.headers.vary).toBe('Origin');
  });

  it("lets an actual request whose handling failed go to Express once, served without CORS headers", async () => {
    // A later interval of the failure log (one line per cause per interval, RULES 21): the preflight's failure above was this cause's line.
    const logs = app.get(CorsHandler, { strict: false }).logs;
    logs.now = () => Date.now() + 10 * logs.intervalMs;
    const broken = breakCorsService(app, 'applyAccessControl');
    try {
      const res = await request(app.getHttpServer()).get('/api/open?failing').set('Origin', A);
      expect(broken.calls()).toBe(1);
      expect(res.status).toBe(200);
      expect(res.text).toBe('open');
      expect(seenByExpress.filter((line) => line === 'GET /api/open?failing')).toHaveLength(1);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(logger.at('error').filter((line) => line.includes('CORS handling failed for GET /api/open;'))).toHaveLength(1);
    } finally {
      broken.restore();
    }
  });

  it('logs a failure before the decision (finding the route), never throws it at the server, and leaves the request to the middleware', async () => {
    // The route table is internal: reached through the middleware, broken for one call.
    const routes = (app.get(ExpressCorsMiddleware, { strict: false }) as unknown as { routes: { resolve(method: string, path: string): unknown } }).routes;
    const resolve = routes.resolve;
    routes.resolve = () => {
      routes.resolve = resolve;
      throw new Error('route table broken');
    };
    try {
      const res = await request(app.getHttpServer()).get('/api/items?route-failure').set('Origin', A);
      expect(res.status).toBe(200);
      expect(allowedBeforeExpress.get('GET /api/items?route-failure')).toBeUndefined();
      expect(res.headers['access-control-allow-origin']).toBe(A);
      expect(logger.at('error').filter((line) => line.includes('CORS handling failed for GET /api/items;'))).toHaveLength(1);
    } finally {
      routes.resolve = resolve;
    }
  });

  it('still handles requests that reach Express without passing its HTTP server (the app called by another server)', async () => {
    const direct = createServer(app.getHttpAdapter().getInstance());
    const res = await request(direct).get('/api/vary').set('Origin', A);
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers.vary).toBe('Accept-Encoding, Origin');
    const answered = await preflight({ getHttpServer: () => direct } as INestApplication, '/api/items', A, 'GET');
    expect(answered.status).toBe(204);
    expect(answered.headers['access-control-allow-origin']).toBe(A);
  });
});

describe('handleBeforeExpress (the default), with an asynchronous ICorsPolicyService', () => {
  let app: INestApplication;
  let allowedBeforeExpress: Map<string, unknown>;
  const corsPolicyService = {
    isOriginAllowed: (origin: string) => new Promise<boolean>((resolve) => setTimeout(() => resolve(origin === CLIENT), 20)),
  };

  beforeAll(async () => {
    ({ app, allowedBeforeExpress } = await createApp({ identity: {} }, false, undefined, { corsPolicyService: { useValue: corsPolicyService } }));
  });
  afterAll(() => app.close());

  it('holds the request until the decision, then hands it to Express with its body intact', async () => {
    const res = await request(app.getHttpServer()).post('/connect/token').set('Origin', CLIENT).send({ grant_type: 'authorization_code', code: 'c'.repeat(5000) });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ grant_type: 'authorization_code', code: 'c'.repeat(5000) });
    expect(allowedBeforeExpress.get('POST /connect/token')).toBe(CLIENT);
    expect(res.headers['access-control-allow-origin']).toBe(CLIENT);
    const denied = await request(app.getHttpServer()).post('/connect/token').set('Origin', A).send({ grant_type: 'x' });
    expect(denied.body).toEqual({ grant_type: 'x' });
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    expect(denied.headers.vary).toBe('Origin');
  });
});

describe('handleBeforeExpress: false', () => {
  let app: INestApplication;
  let seenByExpress: string[];
  let allowedBeforeExpress: Map<string, unknown>;

  beforeAll(async () => {
    ({ app, seenByExpress, allowedBeforeExpress } = await createApp({ handleBeforeExpress: false }, false));
  });
  afterAll(() => app.close());

  it('answers preflights in the middleware, after the middleware mounted before it', async () => {
    const res = await preflight(app, '/api/items', A, 'GET', 'authorization');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers['x-powered-by']).toBe('Express');
    expect(seenByExpress).toContain('OPTIONS /api/items');
    const identity = await preflight(app, '/connect/userinfo', CLIENT, 'GET');
    expect(identity.headers['access-control-allow-origin']).toBe(CLIENT);
    expect(seenByExpress).toContain('OPTIONS /connect/userinfo');
  });

  it("writes an actual request's CORS headers in the middleware, after the middleware mounted before it", async () => {
    const res = await request(app.getHttpServer()).get('/api/vary').set('Origin', A);
    expect(allowedBeforeExpress.get('GET /api/vary')).toBeUndefined();
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers.vary).toBe('Accept-Encoding, Origin');
  });

  it('is validated: a value other than true or false is a startup error that names it', async () => {
    const attempt = createApp({ handleBeforeExpress: 'no' as unknown as boolean }, false);
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityCorsOptionsError);
    expect((error as Error).message).toContain('handleBeforeExpress must be true or false (got no)');
  });
});

describe("handleBeforeExpress beside another 'request' listener on the server", () => {
  let app: INestApplication;
  const seenByListener: string[] = [];

  beforeAll(async () => {
    // Added before the module mounts at init, as a library that observes the server might.
    ({ app } = await createApp({}, false, (created) =>
      created.getHttpServer().on('request', (req: { method: string; url: string }) => seenByListener.push(`${req.method} ${req.url}`)),
    ));
  });
  afterAll(() => app.close());

  it('hands the requests it leaves alone to every listener that was there, in order', async () => {
    const get = await request(app.getHttpServer()).get('/api/items').set('Origin', A);
    expect(get.status).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBe(A);
    expect(seenByListener).toEqual(['GET /api/items']);
    const answered = await preflight(app, '/api/items', A, 'GET');
    expect(answered.status).toBe(204);
    expect(seenByListener).toEqual(['GET /api/items']);
  });

  it("keeps Vary: Origin after the app's own Vary on the responses it hands on (their own writeHead hook)", async () => {
    const res = await request(app.getHttpServer()).get('/api/vary').set('Origin', A);
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers.vary).toBe('Accept-Encoding, Origin');
  });
});
