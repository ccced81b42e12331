import { Controller, Module, Post, type INestApplication } from '@nestjs/common';
import type request from 'supertest';
import { CorsExplainer, DefaultCorsPolicyService, ICorsPolicyService, IdentityCorsModule } from 'nest-identity-cors';
import { createApp } from '../support/app.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { checkExplainerAgreement } from '../support/explain-agreement.js';
import { acao, ApiController, clients, EVIL, IdentityController, PARTNER, policies, server, SPA } from '../support/identity-app.js';
import { createNestApp, initApp } from '../support/platform.js';

// Identity-endpoint CORS as a browser sees it: which paths, which origins, same-origin requests, max-age,
// and the built-in DefaultCorsPolicyService configured through options.

describe('identity endpoints with in-memory clients', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createApp({ imports: [IdentityCorsModule.forRoot({ policies, identity: { clients, preflightCacheDuration: 600 } })], controllers: [IdentityController, ApiController] });
  });
  afterAll(() => app.close());

  it.each([
    ['get', '/.well-known/openid-configuration'],
    ['get', '/.well-known/openid-configuration/jwks'],
    ['post', '/connect/token'],
    ['get', '/connect/userinfo'],
    ['post', '/connect/revocation'],
  ] as const)('%s %s allows a listed client origin (RULES 11)', async (method, path) => {
    const res = await server(app)[method](path).set('Origin', SPA);
    expect(acao(res)).toBe(SPA);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers['access-control-expose-headers']).toBe('WWW-Authenticate,DPoP-Nonce');
    expect(res.headers.vary).toBe('Origin');
  });

  it('answers identity preflights with the requested method and headers and the configured max-age', async () => {
    const res = await server(app)
      .options('/connect/token')
      .set('Origin', SPA)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type, dpop');
    expect(res.status).toBe(204);
    expect(acao(res)).toBe(SPA);
    expect(res.headers['access-control-allow-methods']).toBe('POST');
    expect(res.headers['access-control-allow-headers']).toBe('content-type,dpop');
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers.vary).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
  });

  it('denies unlisted origins and disabled clients, and the endpoint still runs (RULES 7)', async () => {
    for (const origin of [EVIL, 'https://off.example', PARTNER, 'null']) {
      const res = await server(app).post('/connect/token').set('Origin', origin);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ access_token: 't' });
      expect(acao(res)).toBeUndefined();
    }
  });

  it('does not apply to other identity-looking paths', async () => {
    expect(acao(await server(app).get('/connect/authorize').set('Origin', SPA))).toBeUndefined();
  });

  it('skips CORS for the server origin itself', async () => {
    const res = await server(app).get('/connect/userinfo').set('Host', 'id.example:8443').set('Origin', 'http://id.example:8443');
    expect(acao(res)).toBeUndefined();
  });

  it('skips CORS for the server origin even when a client lists it, however Host spells it', async () => {
    const own = ['http://id.example', 'http://id.example:8443'];
    const selfListed = await createApp({
      imports: [IdentityCorsModule.forRoot({ identity: { clients: [{ clientId: 'self', allowedCorsOrigins: own }] } })],
      controllers: [IdentityController],
    });
    try {
      const userinfo = (host: string, origin: string) => server(selfListed).get('/connect/userinfo').set('Host', host).set('Origin', origin);
      expect(acao(await userinfo('id.example:8443', own[1]!))).toBeUndefined();
      expect(acao(await userinfo('ID.example:80', own[0]!))).toBeUndefined();
      // from another host the same origins are cross-origin, and allowed
      expect(acao(await userinfo('other.example', own[0]!))).toBe(own[0]);
      expect(acao(await userinfo('id.example:3000', own[1]!))).toBe(own[1]);
    } finally {
      await selfListed.close();
    }
  });

  it("leaves the host's policies and decorators as if the identity layer were not there (RULES 12)", async () => {
    const partner = await server(app).get('/api/partner').set('Origin', PARTNER);
    expect(acao(partner)).toBe(PARTNER);
    expect(partner.headers['access-control-allow-credentials']).toBe('true');
    expect(acao(await server(app).get('/api/partner').set('Origin', SPA))).toBeUndefined();
    const plain = await server(app).get('/api/plain').set('Origin', SPA);
    expect(acao(plain)).toBeUndefined();
    expect(plain.headers.vary).toBeUndefined();
  });
});

describe('DefaultCorsPolicyService through options', () => {
  it('allowedOrigins allows exactly those origins', async () => {
    const app = await createApp({ imports: [IdentityCorsModule.forRoot({ identity: { allowedOrigins: ['HTTPS://SPA.example:443'] } })], controllers: [IdentityController] });
    expect(acao(await server(app).get('/connect/userinfo').set('Origin', SPA))).toBe(SPA);
    expect(acao(await server(app).get('/connect/userinfo').set('Origin', EVIL))).toBeUndefined();
    expect(app.get(ICorsPolicyService)).toBeInstanceOf(DefaultCorsPolicyService);
    await app.close();
  });

  it('denies everything by default', async () => {
    const app = await createApp({ imports: [IdentityCorsModule.forRoot({})], controllers: [IdentityController] });
    expect(acao(await server(app).get('/connect/userinfo').set('Origin', SPA))).toBeUndefined();
    await app.close();
  });

  it('allowAll allows any origin (but not null) and warns at startup', async () => {
    const logger = new CaptureLogger();
    @Module({ imports: [IdentityCorsModule.forRoot({ identity: { allowAll: true } })], controllers: [IdentityController] })
    class AppModule {}
    const app = await createNestApp(AppModule, { logger, abortOnError: false });
    await initApp(app);
    checkExplainerAgreement(app); // built without createApp (to pass a logger): checked all the same
    expect(acao(await server(app).get('/connect/userinfo').set('Origin', EVIL))).toBe(EVIL);
    expect(acao(await server(app).get('/connect/userinfo').set('Origin', 'null'))).toBeUndefined();
    expect(logger.at('warn').join()).toMatch(/allowAll is true.*Use with caution/);
    await app.close();
  });

  it('custom corsPaths and corsPolicyName', async () => {
    @Controller('oauth') class OAuth { @Post('token') token() { return 'ok'; } }
    const app = await createApp({
      imports: [IdentityCorsModule.forRoot({ identity: { corsPaths: ['/oauth/token'], corsPolicyName: 'Identity', allowedOrigins: [SPA] } })],
      controllers: [OAuth, IdentityController],
    });
    expect(acao(await server(app).post('/oauth/token').set('Origin', SPA))).toBe(SPA);
    expect(acao(await server(app).post('/connect/token').set('Origin', SPA))).toBeUndefined();
    await app.close();
  });

  it('logs denials with their reason at debug level (RULES 13)', async () => {
    const logger = new CaptureLogger();
    @Module({ imports: [IdentityCorsModule.forRoot({ policies, identity: { clients } })], controllers: [IdentityController, ApiController] })
    class AppModule {}
    const app = await createNestApp(AppModule, { logger, abortOnError: false });
    await initApp(app);
    checkExplainerAgreement(app); // built without createApp (to pass a logger): checked all the same
    await server(app).post('/connect/token').set('Origin', EVIL);
    await server(app).get('/api/partner').set('Origin', EVIL);
    await server(app).get('/api/partner').set('Origin', 'https://bad.example/');
    const debug = logger.at('debug');
    // One line per denied request (RULES 21), with its reason code, the policy and an example.
    expect(debug).toEqual([
      `CORS request denied (service-denied, policy 'IdentityServer'): ICorsPolicyService did not allow the origin; e.g. Origin "${EVIL}" to "/connect/token"`,
      `CORS request denied (origin-not-allowed, policy 'partner'): the policy does not allow the origin; e.g. Origin "${EVIL}" to "/api/partner"`,
      `CORS request denied (origin-invalid, policy 'partner'): the Origin header is not a serialized origin; e.g. Origin "https://bad.example/" to "/api/partner"`,
    ]);
    await app.close();
  });
});

describe('Origin: null on identity paths, with your own ICorsPolicyService (RULES 2)', () => {
  const NULL = 'null';
  async function appWith(service: ICorsPolicyService) {
    return createApp({ imports: [IdentityCorsModule.forRoot({ policies, corsPolicyService: { useValue: service } })], controllers: [IdentityController] });
  }
  const preflight = (app: INestApplication, origin: string) => server(app).options('/connect/token').set('Origin', origin).set('Access-Control-Request-Method', 'POST');

  it.each([
    ['synchronously', (answer: boolean) => answer],
    ['in a Promise', (answer: boolean) => Promise.resolve(answer)],
  ])('a service that allows every origin (answering %s) does not list null: denied, actual requests and preflights', async (_how, answer) => {
    const asked: string[] = [];
    const app = await appWith({ isOriginAllowed: (origin: string) => (asked.push(origin), answer(true)) });
    try {
      const res = await server(app).post('/connect/token').set('Origin', NULL);
      expect([acao(res), res.headers.vary]).toEqual([undefined, 'Origin']);
      expect(acao(await preflight(app, NULL))).toBeUndefined();
      expect(asked).toContain('https://cors-canary.invalid');
      expect(await app.get(CorsExplainer).explain({ method: 'POST', path: '/connect/token', headers: { Origin: NULL } })).toMatchObject({ decision: 'denied', reason: 'null-not-listed' });
      expect(acao(await server(app).post('/connect/token').set('Origin', SPA))).toBe(SPA);
    } finally {
      await app.close();
    }
  });

  it('a service that says no to null at once is not asked about every origin: denied as any origin it does not allow', async () => {
    const asked: string[] = [];
    const app = await appWith({ isOriginAllowed: (origin: string) => (asked.push(origin), origin === SPA) });
    try {
      expect(acao(await server(app).post('/connect/token').set('Origin', NULL))).toBeUndefined();
      expect(asked).toEqual([NULL]);
      expect(await app.get(CorsExplainer).explain({ method: 'POST', path: '/connect/token', headers: { Origin: NULL } })).toMatchObject({ decision: 'denied', reason: 'service-denied' });
    } finally {
      await app.close();
    }
  });

  it('a service that lists null (and not every origin) allows it, reflected without credentials', async () => {
    const app = await appWith({ isOriginAllowed: async (origin: string) => origin === NULL || origin === SPA });
    try {
      const res = await server(app).post('/connect/token').set('Origin', NULL);
      expect([acao(res), res.headers['access-control-allow-credentials'], res.headers.vary]).toEqual([NULL, undefined, 'Origin']);
      const answer = await preflight(app, NULL);
      expect([answer.status, acao(answer)]).toEqual([204, NULL]);
      expect(acao(await server(app).post('/connect/token').set('Origin', EVIL))).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

describe('the same identity preflight, again and again, while ICorsPolicyService changes its answer', () => {
  // The CorsService remembers an allowed preflight's answer (lib/core/preflight-answers.ts), but asks the service
  // every time (RULES 11): each preflight gets what the service says now, and an allowed one its full answer.
  it.each([true, false])('answers each as the service says now (handleBeforeExpress: %s)', async (handleBeforeExpress) => {
    let allows = true;
    const service = { isOriginAllowed: (origin: string) => allows && origin === SPA };
    @Module({
      imports: [IdentityCorsModule.forRoot({ handleBeforeExpress, identity: { preflightCacheDuration: 600 } }, { corsPolicyService: { useValue: service } })],
      controllers: [IdentityController],
    })
    class AppModule {}
    // Not createApp: its check that the explainer agrees with each response explains them again at the end, when the
    // service's answer is no longer what it was.
    const app = await createNestApp(AppModule, { logger: false, abortOnError: false });
    await initApp(app);
    const send = () =>
      server(app).options('/connect/token').set('Origin', SPA).set('Access-Control-Request-Method', 'POST').set('Access-Control-Request-Headers', 'content-type, dpop');
    const allowedAnswer = {
      status: 204,
      origin: SPA,
      methods: 'POST',
      headers: 'content-type,dpop',
      maxAge: '600',
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    };
    const answer = (res: request.Response) => ({
      status: res.status,
      origin: acao(res),
      methods: res.headers['access-control-allow-methods'],
      headers: res.headers['access-control-allow-headers'],
      maxAge: res.headers['access-control-max-age'],
      vary: res.headers.vary,
    });
    try {
      for (const allowed of [true, true, true, false, false, true, false, true]) {
        allows = allowed;
        const expected = allowed ? allowedAnswer : { status: 204, origin: undefined, methods: undefined, headers: undefined, maxAge: undefined, vary: 'Origin' };
        expect([allowed, answer(await send())]).toEqual([allowed, expected]);
      }
    } finally {
      await app.close();
    }
  });
});
