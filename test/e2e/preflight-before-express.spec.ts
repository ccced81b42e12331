import { Controller, Get, Module, Options, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import { CorsService, DisableCors, EnableCors, IdentityCorsModule, IdentityCorsOptionsError, useIdentityCors, type IdentityCorsModuleOptions } from 'nest-identity-cors';
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
  @Get('connect/userinfo') userinfo() { return { sub: '1' }; }
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
 * An app whose main.ts mounts a middleware of its own before anything else; it records what reaches Express.
 * `beforeInit` runs last before app.init(), where the module mounts unless mounted early.
 */
async function createApp(extra: Partial<IdentityCorsModuleOptions>, mountEarly: boolean, beforeInit?: (app: INestApplication) => void) {
  @Module({ imports: [IdentityCorsModule.forRoot({ ...OPTIONS, ...extra })], controllers: [AppController] })
  class AppModule {}
  const seenByExpress: string[] = [];
  const logger = new CaptureLogger();
  const app = await NestFactory.create(AppModule, { logger, abortOnError: false });
  app.use((req: { method: string; url: string }, _res: unknown, next: () => void) => {
    seenByExpress.push(`${req.method} ${req.url}`);
    next();
  });
  if (mountEarly) useIdentityCors(app);
  beforeInit?.(app);
  await app.init();
  return { app, seenByExpress, logger };
}

const preflight = (app: INestApplication, path: string, origin: string, method: string, headers?: string) => {
  const req = request(app.getHttpServer()).options(path).set('Origin', origin).set('Access-Control-Request-Method', method);
  return headers === undefined ? req : req.set('Access-Control-Request-Headers', headers);
};

describe.each([
  ['the module mounts the middleware', false],
  ['useIdentityCors(app) mounts it', true],
])('preflightBeforeExpress (the default), when %s', (_label, mountEarly) => {
  let app: INestApplication;
  let seenByExpress: string[];
  let logger: CaptureLogger;

  beforeAll(async () => {
    ({ app, seenByExpress, logger } = await createApp({}, mountEarly));
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
    const cors = app.get(CorsService);
    let calls = 0;
    cors.applyResult = () => {
      calls += 1;
      throw new Error('boom');
    };
    try {
      const res = await preflight(app, '/api/open', A, 'GET');
      expect(calls).toBe(1);
      expect(seenByExpress).toContain('OPTIONS /api/open');
      // Routing finds no OPTIONS handler; no CORS headers were sent.
      expect(res.status).toBe(404);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(logger.at('error').filter((line) => line.includes('CORS handling failed for OPTIONS /api/open'))).toHaveLength(1);
    } finally {
      delete (cors as Partial<CorsService>).applyResult; // the prototype's again
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
});

describe('preflightBeforeExpress: false', () => {
  let app: INestApplication;
  let seenByExpress: string[];

  beforeAll(async () => {
    ({ app, seenByExpress } = await createApp({ preflightBeforeExpress: false }, false));
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

  it('is validated: a value other than true or false is a startup error that names it', async () => {
    const attempt = createApp({ preflightBeforeExpress: 'no' as unknown as boolean }, false);
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityCorsOptionsError);
    expect((error as Error).message).toContain('preflightBeforeExpress must be true or false (got no)');
  });
});

describe("preflightBeforeExpress beside another 'request' listener on the server", () => {
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
});
