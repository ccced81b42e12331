import { Controller, Get, Module, Post, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { CorsExplainer, DisableCors, EnableCors, IdentityCorsModule } from 'nest-identity-cors';
import { createApp } from '../support/app.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { createNestApp, initApp } from '../support/platform.js';

// Issue 18: the in-app explainer answers from the same route table and CorsHandler.decide as real requests,
// without sending anything. (Every createApp suite also checks it against each response: explain-agreement.ts.)

const SPA = 'https://spa.example';
const PARTNER = 'https://partner.example';
const EVIL = 'https://evil.example';

@Controller('connect')
class IdentityController {
  @Post('token') token() { return { access_token: 't' }; }
}

@Controller('api')
class ApiController {
  @Get('partner') @EnableCors('partner') partner() { return 'partner'; }
  @Get('secret') @DisableCors() secret() { return 'secret'; }
}

describe('CorsExplainer: what the library would do with a request, and why', () => {
  let app: INestApplication;
  let explainer: CorsExplainer;
  beforeAll(async () => {
    app = await createApp({
      imports: [
        IdentityCorsModule.forRoot({
          policies: { partner: (b) => b.withOrigins(PARTNER).allowCredentials().withExposedHeaders('X-Total') },
          identity: { clients: [{ clientId: 'spa', allowedCorsOrigins: [SPA] }] },
        }),
      ],
      controllers: [IdentityController, ApiController],
    });
    explainer = app.get(CorsExplainer);
  });
  afterAll(() => app.close());

  it("names the route's decorator, its policy and the headers of an allowed request, and they are the response's", async () => {
    const explanation = await explainer.explain({ method: 'GET', path: '/api/partner', headers: { Origin: PARTNER } });
    expect(explanation).toEqual({
      preflight: false,
      source: { kind: 'route', policyName: 'partner', handlerName: 'ApiController.partner' },
      decision: 'allowed',
      policy: { origins: [PARTNER], customOriginCheck: false, methods: [], headers: [], exposedHeaders: ['X-Total'], credentials: true },
      headers: {
        Vary: 'Origin',
        'Access-Control-Allow-Origin': PARTNER,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Expose-Headers': 'X-Total',
      },
    });
    const res = await request(app.getHttpServer()).get('/api/partner').set('Origin', PARTNER);
    expect(res.headers['access-control-allow-origin']).toBe(PARTNER);
    expect(res.headers['access-control-expose-headers']).toBe('X-Total');
  });

  it('says the policy does not allow an origin, naming the policy', async () => {
    expect(await explainer.explain({ method: 'GET', path: '/api/partner', headers: { Origin: EVIL } })).toMatchObject({
      decision: 'denied',
      reason: 'origin-not-allowed',
      reasonText: "policy 'partner' does not allow the origin",
      headers: { Vary: 'Origin' },
    });
  });

  it('a @DisableCors route: no CORS, no headers', async () => {
    expect(await explainer.explain({ method: 'GET', path: '/api/secret', headers: { Origin: PARTNER } })).toEqual({
      preflight: false,
      source: null,
      decision: 'no-cors-route',
      headers: {},
    });
  });

  it('an identity path: the allowed client origin gets the identity policy; another origin is denied by ICorsPolicyService', async () => {
    const allowed = await explainer.explain({ method: 'POST', path: '/connect/token', headers: { Origin: SPA } });
    expect(allowed).toMatchObject({
      source: { kind: 'identity', policyName: 'IdentityServer' },
      decision: 'allowed',
      headers: { Vary: 'Origin', 'Access-Control-Allow-Origin': SPA, 'Access-Control-Expose-Headers': 'WWW-Authenticate,DPoP-Nonce' },
    });
    expect(allowed.reason).toBeUndefined();

    expect(await explainer.explain({ method: 'POST', path: '/connect/token', headers: { Origin: EVIL } })).toMatchObject({
      source: { kind: 'identity' },
      decision: 'denied',
      reason: 'service-denied',
      reasonText: 'ICorsPolicyService did not allow the origin',
      headers: { Vary: 'Origin' },
    });
  });

  it("the server's own origin on an identity path (Host id.example, secure) is denied as server-origin", async () => {
    const own = await explainer.explain({ method: 'POST', path: '/connect/token', headers: { Origin: 'https://id.example', Host: 'id.example' }, secure: true });
    expect(own).toMatchObject({ decision: 'denied', reason: 'server-origin', headers: { Vary: 'Origin' } });
  });

  it('an invalid Origin: says how it is invalid', async () => {
    const slash = await explainer.explain({ method: 'POST', path: '/connect/token', headers: { Origin: `${SPA}/` } });
    expect(slash).toMatchObject({ decision: 'denied', reason: 'origin-invalid' });
    expect(slash.reasonText).toContain('"https://spa.example/" is not scheme://host[:port]');

    const long = await explainer.explain({ method: 'GET', path: '/api/partner', headers: { Origin: `https://${'a'.repeat(300)}.example` } });
    expect(long).toMatchObject({ decision: 'denied', reason: 'origin-invalid' });
    expect(long.reasonText).toContain('more than the 300 allowed');
  });

  it('a request without Origin is not a CORS request: only Vary: Origin', async () => {
    expect(await explainer.explain({ method: 'GET', path: '/api/partner' })).toMatchObject({ decision: 'not-cors', headers: { Vary: 'Origin' } });
  });

  it("a preflight is decided for the requested method's route and answered 204 with the allow headers", async () => {
    const preflight = await explainer.explain({
      method: 'OPTIONS',
      path: '/connect/token',
      headers: { Origin: SPA, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type, dpop' },
    });
    expect(preflight).toEqual({
      preflight: true,
      source: { kind: 'identity', policyName: 'IdentityServer' },
      decision: 'allowed',
      status: 204,
      policy: expect.objectContaining({ origins: [SPA], methods: ['*'], headers: ['*'] }),
      headers: {
        Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
        'Access-Control-Allow-Origin': SPA,
        'Access-Control-Allow-Methods': 'POST',
        'Access-Control-Allow-Headers': 'content-type,dpop',
      },
    });
  });

  it('a malformed preflight is denied with its own reason', async () => {
    const malformed = await explainer.explain({
      method: 'OPTIONS',
      path: '/api/partner',
      headers: { Origin: PARTNER, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-ok, bad header' },
    });
    expect(malformed).toMatchObject({ preflight: true, decision: 'denied', reason: 'preflight-invalid', status: 204 });
  });
});

describe('CorsExplainer: a failing ICorsPolicyService', () => {
  it('says the identity policy timed out, with the error', async () => {
    const app = await createApp({
      imports: [IdentityCorsModule.forRoot({ policyTimeout: 50 }, { corsPolicyService: { useValue: { isOriginAllowed: () => new Promise<boolean>(() => {}) } } })],
      controllers: [IdentityController],
    });
    const explanation = await app.get(CorsExplainer).explain({ method: 'POST', path: '/connect/token', headers: { Origin: SPA } });
    expect(explanation).toMatchObject({ decision: 'denied', reason: 'policy-failed', timedOut: true, headers: { Vary: 'Origin' } });
    expect(explanation.error).toContain('did not answer within 50 ms');
    expect(explanation.reasonText).toContain("the identity policy 'IdentityServer' timed out");
    await app.close();
  });
});

describe('CorsExplainer and the denial log', () => {
  it('explaining a malformed preflight logs nothing; the real one is logged with reason preflight-invalid', async () => {
    const logger = new CaptureLogger();
    @Module({ imports: [IdentityCorsModule.forRoot({ policies: { partner: (b) => b.withOrigins(PARTNER) } })], controllers: [ApiController] })
    class AppModule {}
    const app = await createNestApp(AppModule, { logger, abortOnError: false });
    await initApp(app);
    const malformed = { 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'bad header' };
    // Explained first: a line of its own would take the cause's place in the (rate-limited) log.
    const explained = await app.get(CorsExplainer).explain({ method: 'OPTIONS', path: '/api/partner', headers: { Origin: EVIL, ...malformed } });
    expect(explained).toMatchObject({ reason: 'preflight-invalid' });
    await request(app.getHttpServer()).options('/api/partner').set({ Origin: PARTNER, ...malformed });
    expect(logger.at('debug')).toEqual([
      `CORS request denied (preflight-invalid, policy 'partner'): Access-Control-Request-Method or -Headers is malformed; e.g. Origin "${PARTNER}" to "/api/partner"`,
    ]);
    await app.close();
  });
});

describe('CorsExplainer: a throwing ICorsPolicyService', () => {
  it('says the identity policy failed (not timed out), with the error', async () => {
    const isOriginAllowed = () => Promise.reject(new Error('store down'));
    const app = await createApp({ imports: [IdentityCorsModule.forRoot({}, { corsPolicyService: { useValue: { isOriginAllowed } } })], controllers: [IdentityController] });
    const explanation = await app.get(CorsExplainer).explain({ method: 'POST', path: '/connect/token', headers: { Origin: SPA } });
    expect(explanation).toMatchObject({ decision: 'denied', reason: 'policy-failed', timedOut: false, error: 'store down' });
    expect(explanation.reasonText).toBe("the identity policy 'IdentityServer' failed: store down");
    await app.close();
  });
});

describe('CorsExplainer beside real requests', () => {
  it('a malformed preflight to an any-origin route with an unparsable Origin is explained as preflight-invalid', async () => {
    @Controller('open')
    class OpenController {
      @Get() @EnableCors('open') open() { return 'open'; }
    }
    const app = await createApp({ imports: [IdentityCorsModule.forRoot({ policies: { open: (b) => b.allowAnyOrigin() } })], controllers: [OpenController] });
    const explanation = await app.get(CorsExplainer).explain({
      method: 'OPTIONS',
      path: '/open',
      headers: { Origin: 'null', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'bad header' },
    });
    expect(explanation).toMatchObject({ decision: 'denied', reason: 'preflight-invalid' });
    await app.close();
  });

  it('explaining with a failing service neither starts an outage in the log nor ends a real one', async () => {
    const logger = new CaptureLogger();
    let failing = true;
    const isOriginAllowed = () => (failing ? Promise.reject(new Error('store down')) : true);
    @Module({ imports: [IdentityCorsModule.forRoot({}, { corsPolicyService: { useValue: { isOriginAllowed } } })], controllers: [IdentityController] })
    class AppModule {}
    const app = await createNestApp(AppModule, { logger, abortOnError: false });
    await initApp(app);
    const explainer = app.get(CorsExplainer);
    expect(await explainer.explain({ method: 'POST', path: '/connect/token', headers: { Origin: SPA } })).toMatchObject({ reason: 'policy-failed' });
    expect(logger.at('error')).toEqual([]);
    await request(app.getHttpServer()).post('/connect/token').set('Origin', SPA);
    expect(logger.at('error')).toHaveLength(1);
    failing = false;
    expect(await explainer.explain({ method: 'POST', path: '/connect/token', headers: { Origin: SPA } })).toMatchObject({ decision: 'allowed' });
    expect(logger.at('log').filter((line) => line.includes('answers again'))).toEqual([]);
    await request(app.getHttpServer()).post('/connect/token').set('Origin', SPA);
    expect(logger.at('log').filter((line) => line.includes('answers again'))).toHaveLength(1);
    await app.close();
  });
});
