import { Body, Controller, Get, NotFoundException, Param, ParseIntPipe, Post, UnauthorizedException, UseGuards, type CanActivate, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { EnableCors, IdentityCorsModule, ICorsPolicyService, useIdentityCors } from 'nest-identity-cors';
import { CorsHandler } from '../../lib/handler/cors-handler.js';
import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { breakCorsService } from '../support/break-cors-service.js';
import { createApp } from '../support/app.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { B, MOUNTS, policies as namedPolicies, startPolicyRoutes } from '../support/policy-routes.js';
import { createNestApp, initApp, onPlatform } from '../support/platform.js';

const A = 'https://a.example';

class RejectGuard implements CanActivate {
  canActivate(): boolean {
    throw new UnauthorizedException();
  }
}

@Controller('e')
@EnableCors('a')
class ErrorsController {
  @Get('401') @UseGuards(RejectGuard) unauthorized() { return 'never'; }
  @Get('404') notFound() { throw new NotFoundException('no such item'); }
  @Get('400/:n') badRequest(@Param('n', ParseIntPipe) n: number) { return n; }
  @Get('500') boom() { throw new Error('boom'); }
  @Post('json') json(@Body() body: unknown) { return body; }
}

@Controller('connect')
class TokenController {
  @Post('token') token() { return { access_token: 'issued' }; }
}

const policies = { a: (b: import('nest-identity-cors').CorsPolicyBuilder) => b.withOrigins(A).allowCredentials(), fallback: (b: import('nest-identity-cors').CorsPolicyBuilder) => b.withOrigins(A) };

describe('CORS headers on error responses (allowed origin)', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createApp({ imports: [IdentityCorsModule.forRoot({ policies, globalPolicy: 'fallback' })], controllers: [ErrorsController] });
  });
  afterAll(() => app.close());

  it.each([
    ['/e/401', 401],
    ['/e/404', 404],
    ['/e/400/not-a-number', 400],
    ['/e/500', 500],
    ['/no/such/route', 404],
  ])('%s answers %i with the CORS headers', async (path, status) => {
    const res = await request(app.getHttpServer()).get(path).set('Origin', A);
    expect(res.status).toBe(status);
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers.vary).toContain('Origin');
  });
});

/** Middleware that answer a request themselves, on Node's response (as Nest hands middleware on either platform), before any handler. */
@Controller('mw')
@EnableCors('a')
class GuardedByMiddlewareController {
  @Get('end') ended() { return 'never'; }
  @Get('head') headed() { return 'never'; }
}
@Module({ controllers: [GuardedByMiddlewareController] })
class MiddlewareAnswersModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer
      .apply((_req: unknown, res: ServerResponse) => {
        res.statusCode = 401;
        res.setHeader('Content-Type', 'text/plain');
        res.end('no token');
      })
      .forRoutes('mw/end');
    consumer.apply((_req: unknown, res: ServerResponse) => void res.writeHead(401, { 'Content-Type': 'text/plain', Vary: 'Authorization' }).end('no token')).forRoutes('mw/head');
  }
}

describe('CORS headers on a response a middleware sends itself, on Node\'s response (RULES 19)', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createApp({ imports: [IdentityCorsModule.forRoot({ policies, globalPolicy: 'fallback' }), MiddlewareAnswersModule] });
  });
  afterAll(() => app.close());

  it.each([
    ['/mw/end', 'Origin'],
    ['/mw/head', 'Authorization, Origin'],
  ])('%s: the 401 carries the allowed decision and Vary: %s', async (path, vary) => {
    const res = await request(app.getHttpServer()).get(path).set('Origin', A);
    expect([res.status, res.text]).toEqual([401, 'no token']);
    expect([res.headers['access-control-allow-origin'], res.headers['access-control-allow-credentials'], res.headers.vary]).toEqual([A, 'true', vary]);
    const denied = await request(app.getHttpServer()).get(path).set('Origin', B);
    expect([denied.status, denied.headers['access-control-allow-origin'], denied.headers.vary]).toEqual([401, undefined, vary]);
  });
});

describe("a body parser's own error response (malformed JSON)", () => {
  @Module({ imports: [IdentityCorsModule.forRoot({ policies })], controllers: [ErrorsController] })
  class BeforeExpressModule {}
  @Module({ imports: [IdentityCorsModule.forRoot({ policies, handleBeforeExpress: false })], controllers: [ErrorsController] })
  class InExpressModule {}

  async function start(module: typeof BeforeExpressModule, early: boolean) {
    const app = await createNestApp(module, { logger: false, abortOnError: false });
    if (early) useIdentityCors(app);
    await initApp(app);
    return app;
  }
  const malformed = (app: INestApplication) =>
    request(app.getHttpServer()).post('/e/json').set('Origin', A).set('Content-Type', 'application/json').send('{"broken":');

  it.each([
    ['by default, mounted by the module', BeforeExpressModule, false],
    ['by default, with useIdentityCors(app)', BeforeExpressModule, true],
    ['with handleBeforeExpress: false, with useIdentityCors(app)', InExpressModule, true],
  ])('%s: the 400 carries the CORS headers, written once', async (_case, module, early) => {
    const app = await start(module, early);
    try {
      const res = await malformed(app);
      expect(res.status).toBe(400);
      expect(res.headers['access-control-allow-origin']).toBe(A);
      expect(res.headers.vary).toBe('Origin');
      const ok = await request(app.getHttpServer()).post('/e/json').set('Origin', A).send({ fine: true });
      expect(ok.body).toEqual({ fine: true });
      expect(ok.headers.vary).toBe('Origin');
    } finally {
      await app.close();
    }
  });

  it('an identity endpoint called from the same host name on another port (a dev server on localhost:4200): the 400 carries the CORS headers, mounted by the module', async () => {
    const dev = 'http://localhost:4200';
    @Module({ imports: [IdentityCorsModule.forRoot({ identity: { allowedOrigins: [dev] } })], controllers: [TokenController] })
    class DevModule {}
    const app = await start(DevModule, false);
    try {
      const send = (host: string) =>
        request(app.getHttpServer()).post('/connect/token').set('Host', host).set('Origin', dev).set('Content-Type', 'application/json').send('{"broken":');
      const res = await send('localhost:3000');
      expect(res.status).toBe(400);
      expect(res.headers['access-control-allow-origin']).toBe(dev);
      expect(res.headers['access-control-expose-headers']).toBe('WWW-Authenticate,DPoP-Nonce');
      expect(res.headers.vary).toBe('Origin');
      // The server's own origin (its host name and port) is not asked about: no allow headers, whatever the platform.
      const own = await send('localhost:4200');
      expect(own.status).toBe(400);
      expect(own.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  // Express runs its body parsers before a module-mounted middleware; the Fastify edge always runs in onRequest, before Fastify parses the body.
  it(`with handleBeforeExpress: false, mounted by the module, the 400 has ${onPlatform({ express: 'no CORS headers (Express parsed the body first)', fastify: 'the CORS headers (Fastify parses bodies after onRequest)' })}`, async () => {
    const app = await start(InExpressModule, false);
    try {
      const res = await malformed(app);
      expect(res.status).toBe(400);
      expect(res.headers['access-control-allow-origin']).toBe(onPlatform({ express: undefined, fastify: A }));
    } finally {
      await app.close();
    }
  });

  // Fastify refuses a media type no parser takes (415); Express's parsers skip it and the handler runs.
  it.each([
    ['a body over the parser limit (2 MiB of JSON)', 'application/json', JSON.stringify({ big: 'x'.repeat(2 * 1024 * 1024) }), { express: 413, fastify: 413 }],
    ['a media type no parser takes', 'application/x-unknown', 'opaque', { express: 201, fastify: 415 }],
  ] as const)('%s: the response carries the CORS headers', async (_case, type, body, status) => {
    const app = await start(BeforeExpressModule, false);
    try {
      const res = await request(app.getHttpServer()).post('/e/json').set('Origin', A).set('Content-Type', type).send(body);
      expect(res.status).toBe(onPlatform(status));
      expect(res.headers['access-control-allow-origin']).toBe(A);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers.vary).toBe('Origin');
    } finally {
      await app.close();
    }
  });
});

describe('coexistence with app.enableCors()', () => {
  it('warns at startup, explaining the conflict', async () => {
    const logger = new CaptureLogger();
    @Module({ imports: [IdentityCorsModule.forRoot({ policies })], controllers: [ErrorsController] })
    class AppModule {}
    const app = await createNestApp(AppModule, { logger, abortOnError: false });
    app.enableCors({ origin: [A] });
    await initApp(app);
    expect(logger.at('warn').join('\n')).toMatch(/app\.enableCors\(\).*is active beside IdentityCorsModule.*Remove enableCors\(\)/s);
    await app.close();
  });

  it('does not warn without it', async () => {
    const logger = new CaptureLogger();
    @Module({ imports: [IdentityCorsModule.forRoot({ policies })], controllers: [ErrorsController] })
    class AppModule {}
    const app = await createNestApp(AppModule, { logger, abortOnError: false });
    await initApp(app);
    expect(logger.at('warn').join('\n')).not.toMatch(/enableCors/);
    await app.close();
  });
});

describe('a failing or slow policy service fails closed and the process keeps serving (RULES 10)', () => {
  class FlakyService implements ICorsPolicyService {
    mode: 'throw' | 'hang' | 'ok' = 'throw';
    isOriginAllowed(origin: string): Promise<boolean> {
      if (this.mode === 'throw') return Promise.reject(new Error('store is down'));
      if (this.mode === 'hang') return new Promise(() => undefined);
      return Promise.resolve(origin === A);
    }
  }
  const flaky = new FlakyService();
  let app: INestApplication;
  let logger: CaptureLogger;

  beforeAll(async () => {
    logger = new CaptureLogger();
    @Module({
      imports: [IdentityCorsModule.forRoot({ policyTimeout: 100, corsPolicyService: { useValue: flaky } })],
      controllers: [TokenController],
    })
    class AppModule {}
    app = await createNestApp(AppModule, { logger, abortOnError: false });
    await initApp(app);
  });
  afterAll(() => app.close());

  it.each(['throw', 'hang'] as const)('when the service %ss: denied, logged, and the endpoint still answers', async (mode) => {
    // Each mode starts a new outage (an ongoing one is logged once, RULES 21): the service answers first.
    flaky.mode = 'ok';
    await request(app.getHttpServer()).post('/connect/token').set('Origin', A);
    flaky.mode = mode;
    const res = await request(app.getHttpServer()).post('/connect/token').set('Origin', A);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ access_token: 'issued' });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await request(app.getHttpServer()).options('/connect/token').set('Origin', A).set('Access-Control-Request-Method', 'POST');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    expect(logger.at('error').join('\n')).toMatch(mode === 'throw' ? /denied because policy 'IdentityServer' failed: store is down/ : /did not answer within 100 ms/);
  });

  it('recovers when the service answers again', async () => {
    flaky.mode = 'ok';
    const res = await request(app.getHttpServer()).post('/connect/token').set('Origin', A);
    expect(res.headers['access-control-allow-origin']).toBe(A);
  });
});

// The handler answers synchronously while every step is synchronous, and starts the Promise and the policyTimeout
// timer only at the first asynchronous step: a predicate's Promise, hang or throw must be decided as before.
describe.each(MOUNTS)('policy predicates: async answers, timeouts and throws (%s)', (_label, early) => {
  let app: INestApplication;
  let logger: CaptureLogger;
  beforeAll(async () => {
    ({ app, logger } = await startPolicyRoutes([IdentityCorsModule.forRoot({ policies: namedPolicies, policyTimeout: 50 })], early));
  });
  afterAll(() => app.close());

  it('decides with an async predicate', async () => {
    expect((await request(app.getHttpServer()).get('/h/late').set('Origin', B)).headers['access-control-allow-origin']).toBe(B);
    expect((await request(app.getHttpServer()).get('/h/late').set('Origin', A)).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('applies policyTimeout to an async predicate that never answers: denied, logged, still served', async () => {
    const res = await request(app.getHttpServer()).get('/h/slow').set('Origin', A);
    expect(res.status).toBe(200);
    expect(res.text).toBe('slow');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(logger.at('error').join('\n')).toMatch(/The CORS decision for https:\/\/a\.example \(policy 'slow'\) did not answer within 50 ms/);
  });

  it('treats a sync predicate that throws as a denial, logged, and still serves the request', async () => {
    const res = await request(app.getHttpServer()).get('/h/broken').set('Origin', A);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers.vary).toBe('Origin');
    expect(logger.at('error').join('\n')).toMatch(/denied because policy 'broken' failed: predicate exploded/);
  });
});

// A bug or a broken collaborator inside the library's edge (Express's listener or middleware, Fastify's onRequest
// hook): logged, never thrown at the server, and the request goes on without CORS headers.
describe.each(MOUNTS)("the library's own failure while handling a request (%s)", (_label, early) => {
  let app: INestApplication;
  let logger: CaptureLogger;
  beforeAll(async () => {
    ({ app, logger } = await startPolicyRoutes([IdentityCorsModule.forRoot({ policies: namedPolicies })], early));
  });
  afterAll(() => app.close());

  const failures = (what: string) => logger.at('error').filter((line) => line.includes(`CORS handling failed for ${what}`));

  it('a preflight: handled once, not answered by the library, logged; the next one is answered', async () => {
    const broken = breakCorsService(app, 'preflightHeaders');
    try {
      const res = await request(app.getHttpServer()).options('/h/plain').set('Origin', A).set('Access-Control-Request-Method', 'GET');
      expect(broken.calls()).toBe(1);
      expect(res.status).not.toBe(204);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(failures('OPTIONS /h/plain')).toHaveLength(1);
    } finally {
      broken.restore();
    }
    const again = await request(app.getHttpServer()).options('/h/plain').set('Origin', A).set('Access-Control-Request-Method', 'GET');
    expect(again.status).toBe(204);
    expect(again.headers['access-control-allow-origin']).toBe(A);
  });

  it('an actual request: served once, without CORS headers, logged', async () => {
    // A later interval of the failure log (one line per cause per interval, RULES 21): the preflight's was this cause's line.
    const logs = app.get(CorsHandler, { strict: false }).logs;
    logs.now = () => Date.now() + 10 * logs.intervalMs;
    const broken = breakCorsService(app, 'applyAccessControl');
    try {
      const res = await request(app.getHttpServer()).get('/h/plain').set('Origin', A);
      expect(broken.calls()).toBe(1);
      expect(res.status).toBe(200);
      expect(res.text).toBe('plain');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(failures('GET /h/plain;')).toHaveLength(1);
    } finally {
      broken.restore();
    }
  });
});
