import { Controller, Get, Post, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { CorsPolicyBuilder, CorsService, EnableCors, IdentityCorsModule } from 'nest-identity-cors';
import { createApp } from '../support/app.js';
import { corsHeaders } from '../support/raw-http.js';
import { MOUNTS, policies, startPolicyRoutes } from '../support/policy-routes.js';
import { countUrlParses } from '../support/url-parses.js';

const A = 'https://a.example';
const SPA = 'https://spa.example';

@Controller()
class OriginController {
  @Get('open') open() { return 'open'; }
  @Get('listed') @EnableCors('listed') listed() { return 'listed'; }
  @Post('connect/token') token() { return 'token'; }
}

/** Every kind of Origin value a request can carry: a serialized origin, the opaque `null`, and values that do not parse. */
const ORIGINS = [A, 'null', `${A}/`, 'HTTPS://A.EXAMPLE', 'https://a.example:443', 'not an origin', 'https://user@a.example', `https://${'a'.repeat(1000)}.example`, 'null, null'].map(
  (origin) => [origin.length > 60 ? `${origin.slice(0, 30)}… (${origin.length} characters)` : origin, origin],
);

describe.each([
  ['handleBeforeExpress (the default)', true],
  ['handleBeforeExpress: false', false],
])('answers that depend on a request header vary on it (%s)', (_label, handleBeforeExpress) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createApp({
      imports: [
        IdentityCorsModule.forRoot({
          policies: { any: (b) => b.allowAnyOrigin().withHeaders('X-Api-Key'), listed: (b) => b.withOrigins(A).withHeaders('X-Api-Key') },
          globalPolicy: 'any',
          handleBeforeExpress,
          identity: { clients: [{ clientId: 'spa', allowedCorsOrigins: [SPA] }] },
        }),
      ],
      controllers: [OriginController],
    });
  });
  afterAll(() => app.close());
  const server = () => request(app.getHttpServer());

  it.each(ORIGINS)('an any-origin policy answers `*` without Vary to Origin %j, as to every other origin', async (_label, origin) => {
    const res = await server().get('/open').set('Origin', origin);
    const reference = await server().get('/open').set('Origin', A);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers.vary).toBeUndefined();
    expect(corsHeaders(res)).toEqual(corsHeaders(reference));
  });

  it.each(ORIGINS)("an any-origin policy's preflight from Origin %j is the same answer as from any origin", async (_label, origin) => {
    const res = await server().options('/open').set('Origin', origin).set('Access-Control-Request-Method', 'GET');
    const reference = await server().options('/open').set('Origin', A).set('Access-Control-Request-Method', 'GET');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(corsHeaders(res)).toEqual(corsHeaders(reference));
  });

  it.each(['null', `${A}/`, 'not an origin'])('a listed-origin policy refuses Origin %j and varies on Origin', async (origin) => {
    const res = await server().get('/listed').set('Origin', origin);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers.vary).toBe('Origin');
  });

  it.each(['null', `${SPA}/`])('an identity path refuses Origin %j and varies on Origin', async (origin) => {
    const res = await server().post('/connect/token').set('Origin', origin);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers.vary).toBe('Origin');
  });

  it.each([
    ['/open', 'a policy whose allowed answer does not vary on Origin'],
    ['/listed', 'a listed-origin policy'],
  ])('a preflight to %s denied for malformed Access-Control-Request-Headers varies on them (%s)', async (path) => {
    const allowed = await server().options(path).set('Origin', A).set('Access-Control-Request-Method', 'GET').set('Access-Control-Request-Headers', 'X-Api-Key');
    expect(allowed.headers['access-control-allow-origin']).toBeDefined();
    expect(allowed.headers.vary ?? '').not.toContain('Access-Control-Request-Headers');
    const denied = await server().options(path).set('Origin', A).set('Access-Control-Request-Method', 'GET').set('Access-Control-Request-Headers', 'X-Api-Key, bad header');
    expect(denied.status).toBe(204);
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    expect(denied.headers.vary).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
  });
});

describe('CorsService, for an any-origin policy without credentials', () => {
  const policy = new CorsPolicyBuilder().allowAnyOrigin().build();
  it.each(['null', 'not an origin', A])('allows Origin %j with `*`, not varying on Origin', async (origin) => {
    const result = await new CorsService().evaluatePolicy({ method: 'GET', headers: { origin } }, policy);
    expect(result).toMatchObject({ isOriginAllowed: true, allowedOrigin: '*', varyByOrigin: false });
  });

  it('treats a request without Origin as no CORS request', async () => {
    const result = await new CorsService().evaluatePolicy({ method: 'GET', headers: {} }, policy);
    expect(result.isOriginAllowed).toBe(false);
  });
});

describe.each(MOUNTS)('repeated origins are checked once (%s)', (_label, early) => {
  let app: INestApplication;
  beforeAll(async () => {
    ({ app } = await startPolicyRoutes([IdentityCorsModule.forRoot({ policies, policyTimeout: 50 })], early));
  });
  afterAll(() => app.close());

  it('gives the same answer to the same origin every time, parsing each distinct Origin at most once (memoized checks)', async () => {
    const parses = await countUrlParses([A, `${A}/`], async () => {
      for (let i = 0; i < 3; i++) {
        const allowed = await request(app.getHttpServer()).get('/h/plain').set('Origin', A);
        expect(allowed.headers['access-control-allow-origin']).toBe(A);
        const malformed = await request(app.getHttpServer()).get('/h/plain').set('Origin', `${A}/`);
        expect(malformed.status).toBe(200);
        expect(malformed.headers['access-control-allow-origin']).toBeUndefined();
        expect(malformed.headers.vary).toBe('Origin');
      }
    });
    // without the memo each of the 3 requests per Origin parses it again; with it, only the first (or none, if remembered)
    expect(parses.get(A)).toBeLessThanOrEqual(1);
    expect(parses.get(`${A}/`)).toBeLessThanOrEqual(1);
  });
});
