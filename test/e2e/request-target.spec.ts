import type { Server } from 'node:http';
import { Controller, Get, Post, type INestApplication } from '@nestjs/common';
import { DisableCors, EnableCors, IdentityCorsModule } from 'nest-identity-cors';
import { createApp } from '../support/app.js';
import { onPlatform, type Platform } from '../support/platform.js';
import { corsHeaders, rawRequest, type RawResponse } from '../support/raw-http.js';

const A = 'https://a.example';
const SPA = 'https://spa.example';
const EVIL = 'https://evil.example';

@Controller()
class TargetController {
  @Get('internal') @DisableCors() internal() { return 'internal'; }
  @Get('static') open() { return 'static'; }
  @Get('items/:id') @EnableCors('a') item() { return 'item'; }
  @Get('secret/:id') @DisableCors() secret() { return 'secret'; }
  @Post('connect/token') token() { return 'token'; }
  @Get('connect/userinfo') userinfo() { return 'userinfo'; }
}

/** Fastify answers a target whose escapes do not decode with 400 itself, before any hook (its router's onBadUrl): no CORS. */
const BAD_URL = "Fastify's own 400 (no CORS)";
/** The routers differ: Express matches paths in any case and with a trailing slash, and decodes no escape before matching. */
const routed = (canonical: Record<Platform, string>) => onPlatform(canonical);

/**
 * Each row: a request target in some form or encoding, and the origin-form target of the handler (or
 * 404/400) that routing actually gives it on the platform. The CORS treatment must be that handler's (RULES 18).
 */
const SAME_AS: Array<[string, string, string]> = [
  // absolute-form (RFC 9112 3.2.2), as proxies send it
  ['GET', 'http://id.example/internal', '/internal'],
  ['GET', 'https://id.example/internal?x=1', '/internal'],
  ['GET', 'http://id.example/internal/', routed({ express: '/internal', fastify: '/nowhere' })],
  ['GET', 'HTTP://ID.EXAMPLE/Internal', routed({ express: '/internal', fastify: '/nowhere' })],
  ['GET', 'http://id.example/static?x=/internal', '/static'],
  ['GET', 'http://id.example/items/7', '/items/1'],
  ['GET', 'http://id.example/connect/userinfo', '/connect/userinfo'],
  ['POST', 'http://id.example/connect/token', '/connect/token'],
  ['POST', 'https://id.example/connect/token/?x', routed({ express: '/connect/token', fastify: '/nowhere' })],
  ['GET', 'http://id.example', '/nowhere'],
  ['GET', 'http://id.example/', '/nowhere'],
  // origin-form spellings
  ['GET', '/Connect/UserInfo', routed({ express: '/connect/userinfo', fastify: '/nowhere' })],
  ['GET', '/connect/userinfo/', routed({ express: '/connect/userinfo', fastify: '/nowhere' })],
  ['GET', '/connect/userinfo//', '/nowhere'],
  ['GET', '//connect/userinfo', '/nowhere'],
  ['GET', '//internal', '/nowhere'],
  ['GET', '/connect%2Fuserinfo', '/nowhere'],
  ['GET', '/%63onnect/userinfo', routed({ express: '/nowhere', fastify: '/connect/userinfo' })],
  ['GET', '/connect/%2e%2e/connect/userinfo', '/nowhere'],
  ['GET', '/connect/../connect/userinfo', '/nowhere'],
  ['GET', '/internal#fragment', '/internal'],
  ['GET', '/internal?', '/internal'],
  ['GET', '/INTERNAL', routed({ express: '/internal', fastify: '/nowhere' })],
  ['GET', '/internal%zz', routed({ express: '/nowhere', fastify: BAD_URL })],
  ['GET', '/static%', routed({ express: '/nowhere', fastify: BAD_URL })],
  ['GET', '/items/%2e%2e', '/items/1'],
  ['GET', '/items/a%2Fb', '/items/1'],
  // a malformed escape in a route's param: on Express, that route's own layer answers 400, with its policy
  ['GET', '/items/%zz', routed({ express: '/items/1', fastify: BAD_URL })],
  ['GET', '/items/%E0%A4%A', routed({ express: '/items/1', fastify: BAD_URL })],
  ['GET', 'http://id.example/items/%zz', routed({ express: '/items/1', fastify: BAD_URL })],
  ['GET', '/secret/%zz', routed({ express: '/secret/1', fastify: BAD_URL })],
  ['GET', 'http://id.example/secret/%', routed({ express: '/secret/1', fastify: BAD_URL })],
  ['GET', '*', '/nowhere'],
  // A backslash: Express's parseurl turns it into '/' in an absolute-form target or one with a '#'; Fastify's router keeps it.
  ['GET', '/items/a\\b#', routed({ express: '/nowhere', fastify: '/items/1' })],
  ['GET', 'http://id.example/secret/a\\b', routed({ express: '/nowhere', fastify: '/secret/1' })],
  ['GET', '/secret\\x#', routed({ express: '/secret/1', fastify: '/nowhere' })],
  ['GET', 'http://id.example/items\\7', routed({ express: '/items/1', fastify: '/nowhere' })],
  ['GET', '/connect\\userinfo#', routed({ express: '/connect/userinfo', fastify: '/nowhere' })],
];

describe.each([
  ['handleBeforeExpress (the default)', true],
  ['handleBeforeExpress: false', false],
])('CORS follows the path routing uses, for every request-target form (%s)', (_label, handleBeforeExpress) => {
  let app: INestApplication;
  let server: Server;
  beforeAll(async () => {
    app = await createApp({
      imports: [
        IdentityCorsModule.forRoot({
          policies: { a: (b) => b.withOrigins(A), global: (b) => b.allowAnyOrigin() },
          globalPolicy: 'global',
          handleBeforeExpress,
          identity: { clients: [{ clientId: 'spa', allowedCorsOrigins: [SPA] }] },
        }),
      ],
      controllers: [TargetController],
    });
    await app.listen(0, '127.0.0.1');
    server = app.getHttpServer() as Server;
  });
  afterAll(() => app.close());

  const send = (method: string, target: string, headers: Record<string, string>) => rawRequest(server, method, target, headers);
  const handlerOf = (res: RawResponse) => (res.status === 200 || res.status === 201 ? res.body.trim().split(/\s+/).find((w) => /^[a-z]+$/.test(w)) : res.status);

  describe.each([A, SPA, EVIL])('from %s', (origin) => {
    it.each(SAME_AS)('%s %s gets the CORS treatment of %s, the handler (or 404/400) it reaches', async (method, target, canonical) => {
      const res = await send(method, target, { Origin: origin });
      if (canonical === BAD_URL) return void expect([res.status, corsHeaders(res)]).toEqual([400, {}]);
      const reference = await send(method, canonical, { Origin: origin });
      if (!(canonical === '/items/1' || canonical === '/secret/1') || !target.includes('%') || target.includes('%2')) {
        expect(handlerOf(res)).toEqual(handlerOf(reference));
      } else {
        expect(res.status).toBe(400);
      }
      expect(corsHeaders(res)).toEqual(corsHeaders(reference));
    });

    it.each(SAME_AS)('a preflight for %s %s is answered as one for %s', async (method, target, canonical) => {
      const headers = { Origin: origin, 'Access-Control-Request-Method': method };
      const res = await send('OPTIONS', target, headers);
      if (canonical === BAD_URL) return void expect([res.status, corsHeaders(res)]).toEqual([400, {}]);
      const reference = await send('OPTIONS', canonical, headers);
      // Answered by the library (204) exactly when the reference is; otherwise routing answers (404, or 400 for a bad escape).
      expect(res.status === 204).toBe(reference.status === 204);
      expect(corsHeaders(res)).toEqual(corsHeaders(reference));
    });
  });

  it('absolute-form targets get their route treatment (@DisableCors, identity endpoint and its preflight), and an escape that does not decode gets no CORS from an origin the route does not allow', async () => {
    const disabled = await send('GET', 'http://id.example/internal', { Origin: EVIL });
    expect(disabled.status).toBe(200);
    expect(disabled.headers['access-control-allow-origin']).toBeUndefined();

    const identity = await send('POST', 'http://id.example/connect/token', { Origin: SPA });
    expect(identity.status).toBe(201);
    expect(identity.headers['access-control-allow-origin']).toBe(SPA);
    expect(identity.headers['access-control-expose-headers']).toBe('WWW-Authenticate,DPoP-Nonce');

    const identityPreflight = await send('OPTIONS', 'http://id.example/connect/token', { Origin: SPA, 'Access-Control-Request-Method': 'POST' });
    expect(identityPreflight.status).toBe(204);
    expect(identityPreflight.headers['access-control-allow-origin']).toBe(SPA);

    // Express: the route's layer answers 400, with the route's policy; Fastify: its router answers 400 before any hook.
    const malformed = await send('GET', '/items/%zz', { Origin: EVIL });
    expect(malformed.status).toBe(400);
    expect(malformed.headers['access-control-allow-origin']).toBeUndefined();
    expect(malformed.headers.vary).toBe(onPlatform({ express: 'Origin', fastify: undefined }));
    const malformedAllowed = await send('GET', '/items/%zz', { Origin: A });
    expect(malformedAllowed.headers['access-control-allow-origin']).toBe(onPlatform({ express: A, fastify: undefined }));
  });
});
