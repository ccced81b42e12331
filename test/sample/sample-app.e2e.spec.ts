import { ConsoleLogger, Logger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { createLocalJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import { ICorsPolicyService } from 'nest-identity-cors';
import { bootstrap, optionsFromEnv, PLATFORMS, type SampleOptions, type SamplePlatform } from '../../sample-app/src/bootstrap.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { freePort, samplePlatforms, startTestSample, tempClientsFile, type TestSample } from '../support/sample.js';

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

// The same expectations on each of Nest's platforms: the sample's controllers are written once, for both.
describe.each(samplePlatforms())('sample app on %s: identity server, host API and SPA servers', (platform) => {
  let sample: TestSample;
  let redirectUri: string;
  const server = () => request(sample.app.getHttpServer());

  beforeAll(async () => {
    sample = await startTestSample({ platform });
    redirectUri = `${sample.allowedOrigin}/callback.html`;
  });
  afterAll(() => sample?.stop());

  const authorizeParams = (challenge: string, extra: Record<string, string> = {}) => ({
    client_id: 'spa',
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid profile email offline_access',
    state: 'state-123',
    nonce: 'nonce-456',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });

  /** Logs alice in through the form and returns the code from the redirect. */
  async function login(challenge: string): Promise<string> {
    const res = await server().post('/connect/authorize').type('form').send({ ...authorizeParams(challenge), username: 'alice', password: 'alice', action: 'login' });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.location!);
    expect(location.origin + location.pathname).toBe(redirectUri);
    expect(location.searchParams.get('state')).toBe('state-123');
    expect(location.searchParams.get('iss')).toBe(sample.issuer);
    return location.searchParams.get('code')!;
  }

  const token = (form: Record<string, string>, origin = sample.allowedOrigin) =>
    server().post('/connect/token').set('Origin', origin).type('form').send({ client_id: 'spa', ...form });

  async function tokensFor(scope?: string) {
    const { verifier, challenge } = pkce();
    const code = await login(challenge);
    const res = await token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, ...(scope ? { scope } : {}) });
    expect(res.status).toBe(200);
    return res.body as { access_token: string; id_token: string; refresh_token: string; scope: string };
  }

  it(`runs on ${platform}'s HTTP adapter`, () => {
    expect(sample.app.getHttpAdapter().getType()).toBe(platform);
  });

  it('serves discovery and JWKS with CORS for the client origin only', async () => {
    const allowed = await server().get('/.well-known/openid-configuration').set('Origin', sample.allowedOrigin);
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(sample.allowedOrigin);
    expect(allowed.body).toMatchObject({ issuer: sample.issuer, token_endpoint: `${sample.issuer}/connect/token`, code_challenge_methods_supported: ['S256'] });
    const denied = await server().get('/.well-known/openid-configuration').set('Origin', sample.deniedOrigin);
    expect(denied.status).toBe(200); // CORS is enforced by the browser: the server still answers
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    const jwks = await server().get('/.well-known/openid-configuration/jwks').set('Origin', sample.allowedOrigin);
    expect(jwks.headers['access-control-allow-origin']).toBe(sample.allowedOrigin);
    expect(jwks.body.keys).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) })]);
    expect(jwks.body.keys[0].d).toBeUndefined();
  });

  it('answers the userinfo preflight for the client origin, with the Authorization header', async () => {
    const res = await server()
      .options('/connect/userinfo')
      .set('Origin', sample.allowedOrigin)
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(sample.allowedOrigin);
    expect(res.headers['access-control-allow-headers']).toBe('authorization');
    expect(res.headers['access-control-max-age']).toBe('600');
  });

  it('runs the code flow with PKCE: login form, code, tokens signed by the JWKS key, userinfo', async () => {
    const { challenge } = pkce();
    const form = await server().get('/connect/authorize').query(authorizeParams(challenge));
    expect(form.status).toBe(200);
    expect(form.text).toContain('<form method="post" action="/connect/authorize">');
    expect(form.text).toContain(`value="${challenge}"`);
    expect(form.headers['x-frame-options']).toBe('DENY');

    const tokens = await tokensFor();
    const jwks = createLocalJWKSet((await server().get('/.well-known/openid-configuration/jwks')).body);
    const id = await jwtVerify(tokens.id_token, jwks, { issuer: sample.issuer, audience: 'spa' });
    expect(id.payload).toMatchObject({ sub: '818727', nonce: 'nonce-456', name: 'Alice Smith', email: 'alice@example.com' });
    const access = await jwtVerify(tokens.access_token, jwks, { issuer: sample.issuer, typ: 'at+jwt' });
    expect(access.payload).toMatchObject({ sub: '818727', client_id: 'spa', scope: 'openid profile email offline_access' });

    const userinfo = await server().get('/connect/userinfo').set('Origin', sample.allowedOrigin).set('Authorization', `Bearer ${tokens.access_token}`);
    expect(userinfo.status).toBe(200);
    expect(userinfo.headers['access-control-allow-origin']).toBe(sample.allowedOrigin);
    expect(userinfo.body).toEqual({
      sub: '818727', name: 'Alice Smith', given_name: 'Alice', family_name: 'Smith', preferred_username: 'alice', email: 'alice@example.com', email_verified: true,
    });
  });

  it('rejects a wrong password, a wrong code_verifier and a reused code', async () => {
    const { verifier, challenge } = pkce();
    const wrong = await server().post('/connect/authorize').type('form').send({ ...authorizeParams(challenge), username: 'alice', password: 'bob' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Wrong username or password.');

    const code = await login(challenge);
    const badVerifier = await token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: pkce().verifier });
    expect(badVerifier.status).toBe(400);
    expect(badVerifier.body).toEqual({ error: 'invalid_grant', error_description: expect.stringContaining('PKCE') });
    expect(badVerifier.headers['access-control-allow-origin']).toBe(sample.allowedOrigin); // the SPA can read the error

    const reused = await token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    expect(reused.body.error).toBe('invalid_grant'); // one-time: consumed by the failed attempt
  });

  it('rejects bad authorize requests: unknown client or redirect URI on a page, the rest back at the client', async () => {
    const { challenge } = pkce();
    const unknown = await server().get('/connect/authorize').query(authorizeParams(challenge, { client_id: 'nope' }));
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('Unknown or disabled client_id &quot;nope&quot;');
    const badRedirect = await server().get('/connect/authorize').query(authorizeParams(challenge, { redirect_uri: 'https://evil.example/cb' }));
    expect(badRedirect.status).toBe(400);
    expect(badRedirect.headers.location).toBeUndefined();

    const noPkce = await server().get('/connect/authorize').query(authorizeParams(challenge, { code_challenge_method: 'plain' }));
    expect(noPkce.status).toBe(303);
    const location = new URL(noPkce.headers.location!);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: 'invalid_request', state: 'state-123', iss: sample.issuer });
    const badScope = await server().get('/connect/authorize').query(authorizeParams(challenge, { scope: 'openid admin' }));
    expect(new URL(badScope.headers.location!).searchParams.get('error')).toBe('invalid_scope');
  });

  it('rotates refresh tokens and refuses a used one', async () => {
    const first = await tokensFor();
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, scope: 'openid profile' });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.scope).toBe('openid profile');
    expect(refreshed.body.refresh_token).not.toBe(first.refresh_token);
    const reused = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
    // the rotated token keeps the whole grant, so it may ask for email again
    const again = await token({ grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token, scope: 'openid email' });
    expect(again.status).toBe(200);
    const wider = await token({ grant_type: 'refresh_token', refresh_token: again.body.refresh_token, scope: 'openid admin' });
    expect(wider.body.error).toBe('invalid_scope');
  });

  it('revokes refresh and access tokens (RFC 7009), cross-origin', async () => {
    const tokens = await tokensFor();
    const revoke = (form: Record<string, string>) =>
      server().post('/connect/revocation').set('Origin', sample.allowedOrigin).type('form').send({ client_id: 'spa', ...form });
    const refreshRevoked = await revoke({ token: tokens.refresh_token, token_type_hint: 'refresh_token' });
    expect(refreshRevoked.status).toBe(200);
    expect(refreshRevoked.headers['access-control-allow-origin']).toBe(sample.allowedOrigin);
    expect((await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).body.error).toBe('invalid_grant');

    expect((await revoke({ token: tokens.access_token })).status).toBe(200);
    const userinfo = await server().get('/connect/userinfo').set('Origin', sample.allowedOrigin).set('Authorization', `Bearer ${tokens.access_token}`);
    expect(userinfo.status).toBe(401);
    expect(userinfo.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(userinfo.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
    expect((await revoke({ token: 'not-a-token' })).status).toBe(200); // unknown tokens: nothing to do (§2.2)
  });

  it('answers OAuth errors as JSON: unsupported grant, unknown client, wrong content type', async () => {
    expect((await token({ grant_type: 'password' })).body.error).toBe('unsupported_grant_type');
    const unknown = await token({ grant_type: 'authorization_code', client_id: 'nope' });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toBe('invalid_client');
    const json = await server().post('/connect/token').send({ client_id: 'spa', grant_type: 'refresh_token' });
    expect(json.body).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('x-www-form-urlencoded') });
  });

  it('answers a token or revocation request without client_id with invalid_request saying it is missing', async () => {
    for (const path of ['/connect/token', '/connect/revocation']) {
      const res = await server().post(path).set('Origin', sample.allowedOrigin).type('form').send({ grant_type: 'refresh_token', token: 'x' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'client_id is missing: a public client sends its client_id in the form' });
      expect(res.headers['access-control-allow-origin']).toBe(sample.allowedOrigin); // the SPA can read the error
    }
    const twice = await server().post('/connect/token').type('form').send('client_id=spa&client_id=spa&grant_type=refresh_token');
    expect(twice.body).toEqual({ error: 'invalid_request', error_description: 'client_id was sent more than once: send it once' });
    const { challenge } = pkce();
    const { client_id: _omitted, ...withoutClient } = authorizeParams(challenge);
    const page = await server().get('/connect/authorize').query(withoutClient);
    expect(page.status).toBe(400);
    expect(page.text).toContain('client_id is missing');
  });

  it("answers a token request the platform's body parser refuses with CORS headers the SPA can read", async () => {
    const malformed = await server().post('/connect/token').set('Origin', sample.allowedOrigin).set('Content-Type', 'application/json').send('{"client_id":');
    expect(malformed.status).toBe(400);
    expect(malformed.headers['access-control-allow-origin']).toBe(sample.allowedOrigin);
    const xml = await server().post('/connect/token').set('Origin', sample.allowedOrigin).set('Content-Type', 'application/xml').send('<client_id>spa</client_id>');
    // Express's parsers leave an unknown media type to the handler (OAuth's invalid_request); Fastify refuses it first
    const refused = {
      express: { status: 400, body: { error: 'invalid_request', error_description: 'send the parameters as application/x-www-form-urlencoded' } },
      fastify: { status: 415, body: { statusCode: 415, message: 'Unsupported Media Type' } },
    }[platform];
    expect({ status: xml.status, body: xml.body }).toEqual(refused);
    expect(xml.headers['access-control-allow-origin']).toBe(sample.allowedOrigin);
  });

  it('gives the host API its own named policies beside the identity CORS', async () => {
    const publicApi = await server().get('/api/public').set('Origin', sample.deniedOrigin);
    expect(publicApi.headers['access-control-allow-origin']).toBe('*');
    expect(publicApi.headers['access-control-allow-credentials']).toBeUndefined();

    const partner = await server().get('/api/partner').set('Origin', sample.allowedOrigin);
    expect(partner.headers['access-control-allow-origin']).toBe(sample.allowedOrigin);
    expect(partner.headers['access-control-allow-credentials']).toBe('true');
    const partnerDenied = await server().get('/api/partner').set('Origin', sample.deniedOrigin);
    expect(partnerDenied.headers['access-control-allow-origin']).toBeUndefined();

    const internal = await server().get('/api/internal').set('Origin', sample.allowedOrigin);
    expect(internal.status).toBe(200);
    expect(internal.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves the browser app and its config on both SPA ports, and nothing else', async () => {
    for (const origin of [sample.allowedOrigin, sample.deniedOrigin]) {
      const index = await request(origin).get('/');
      expect(index.status).toBe(200);
      expect(index.text).toContain('<script src="/oidc-client-ts.min.js"></script>');
      const config = await request(origin).get('/config.js');
      expect(config.text).toBe(`window.SAMPLE_CONFIG = ${JSON.stringify({ authority: sample.issuer, clientId: 'spa' })};\n`);
      const bundle = await request(origin).get('/oidc-client-ts.min.js');
      expect(bundle.status).toBe(200);
      expect(bundle.text).toContain('var oidc=');
      expect((await request(origin).get('/../config/clients.json')).status).toBe(404);
    }
    // a request line that is not a URL gets a 400, and the server keeps serving
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(sample.allowedOrigin).port), 'localhost');
      let response = '';
      socket.on('data', (chunk) => (response += chunk));
      socket.on('end', () => resolve(response));
      socket.on('error', reject);
      socket.end('GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect((await request(sample.allowedOrigin).get('/')).status).toBe(200);
  });
});

// README's promise for Fastify: the same app, FastifyAdapter given, the same headers. Both platforms whatever
// NEST_PLATFORM says, since the comparison needs both.
describe('sample app on Express and on Fastify', () => {
  const samples: Partial<Record<SamplePlatform, TestSample>> = {};
  beforeAll(async () => {
    for (const platform of PLATFORMS) samples[platform] = await startTestSample({ platform });
  });
  afterAll(() => Promise.all(Object.values(samples).map((sample) => sample.stop())));

  type Agent = ReturnType<typeof request>;
  type Ask = (server: Agent, origins: { allowed: string; denied: string }) => request.Test;
  const preflight = (server: Agent, path: string, origin: string, method: string, headers?: string) => {
    const ask = server.options(path).set('Origin', origin).set('Access-Control-Request-Method', method);
    return headers === undefined ? ask : ask.set('Access-Control-Request-Headers', headers);
  };
  const REQUESTS: [string, string | undefined, Ask][] = [
    ['discovery, allowed', '<allowed>', (s, o) => s.get('/.well-known/openid-configuration').set('Origin', o.allowed)],
    ['discovery, denied', undefined, (s, o) => s.get('/.well-known/openid-configuration').set('Origin', o.denied)],
    ['discovery, no Origin', undefined, (s) => s.get('/.well-known/openid-configuration')],
    ['JWKS, allowed', '<allowed>', (s, o) => s.get('/.well-known/openid-configuration/jwks').set('Origin', o.allowed)],
    ['token preflight, allowed', '<allowed>', (s, o) => preflight(s, '/connect/token', o.allowed, 'POST', 'content-type')],
    ['token preflight, denied', undefined, (s, o) => preflight(s, '/connect/token', o.denied, 'POST', 'content-type')],
    ['userinfo preflight, allowed', '<allowed>', (s, o) => preflight(s, '/connect/userinfo', o.allowed, 'GET', 'authorization')],
    ['userinfo without a token (401), allowed', '<allowed>', (s, o) => s.get('/connect/userinfo').set('Origin', o.allowed)],
    ['userinfo without a token (401), denied', undefined, (s, o) => s.get('/connect/userinfo').set('Origin', o.denied)],
    ['token, OAuth error (400), allowed', '<allowed>', (s, o) => s.post('/connect/token').set('Origin', o.allowed).type('form').send({ client_id: 'spa', grant_type: 'password' })],
    ['token, unknown client (401), denied', undefined, (s, o) => s.post('/connect/token').set('Origin', o.denied).type('form').send({ client_id: 'nope' })],
    ['token, malformed JSON (400), allowed', '<allowed>', (s, o) => s.post('/connect/token').set('Origin', o.allowed).set('Content-Type', 'application/json').send('{')],
    ['revocation, allowed', '<allowed>', (s, o) => s.post('/connect/revocation').set('Origin', o.allowed).type('form').send({ client_id: 'spa', token: 'x' })],
    ['authorize page, allowed', undefined, (s, o) => s.get('/connect/authorize').query({ client_id: 'nope' }).set('Origin', o.allowed)],
    ['public API, denied', '*', (s, o) => s.get('/api/public').set('Origin', o.denied)],
    ['public API preflight, denied', '*', (s, o) => preflight(s, '/api/public', o.denied, 'GET', 'x-custom')],
    ['partner API, allowed', '<allowed>', (s, o) => s.get('/api/partner').set('Origin', o.allowed)],
    ['partner API, denied', undefined, (s, o) => s.get('/api/partner').set('Origin', o.denied)],
    ['partner API preflight, allowed', '<allowed>', (s, o) => preflight(s, '/api/partner', o.allowed, 'GET', 'authorization')],
    ['partner API preflight for a method no route serves (404), allowed', undefined, (s, o) => preflight(s, '/api/partner', o.allowed, 'POST')],
    ['internal API, allowed', undefined, (s, o) => s.get('/api/internal').set('Origin', o.allowed)],
    ['internal API preflight, allowed', undefined, (s, o) => preflight(s, '/api/internal', o.allowed, 'GET')],
    ['no route (404), allowed', undefined, (s, o) => s.get('/nowhere').set('Origin', o.allowed)],
    ['no route preflight, allowed', undefined, (s, o) => preflight(s, '/nowhere', o.allowed, 'GET')],
  ];

  /** Status and CORS headers (Access-Control-*, Vary), the sample's own origins written as <allowed> and <denied>. */
  async function corsOf(platform: SamplePlatform, ask: Ask) {
    const sample = samples[platform]!;
    const res = await ask(request(sample.app.getHttpServer()), { allowed: sample.allowedOrigin, denied: sample.deniedOrigin });
    const headers = Object.entries(res.headers)
      .filter(([name]) => name.startsWith('access-control-') || name === 'vary')
      .map(([name, value]) => [name, String(value).replaceAll(sample.allowedOrigin, '<allowed>').replaceAll(sample.deniedOrigin, '<denied>')]);
    return { status: res.status, headers: Object.fromEntries(headers.sort(([a], [b]) => a!.localeCompare(b!))) };
  }

  it.each(REQUESTS)('gives the same status and CORS headers on both: %s (Access-Control-Allow-Origin %s)', async (_name, allowOrigin, ask) => {
    const express = await corsOf('express', ask);
    expect(express.headers['access-control-allow-origin']).toBe(allowOrigin);
    expect(await corsOf('fastify', ask)).toEqual(express);
  });
});

describe('sample app configuration errors', () => {
  it.each(samplePlatforms())("stops at startup on %s with the library's fix-it message for a URL given as a CORS origin", async (platform) => {
    const clients = await tempClientsFile([{ clientId: 'spa', redirectUris: ['https://foo:123/callback.html'], allowedCorsOrigins: ['https://foo:123/'] }]);
    try {
      const port = await freePort();
      await expect(bootstrap({ port, spaPorts: [await freePort()], clientsFile: clients.file, platform, logger: false })).rejects.toThrow(
        "identity.clients: client 'spa': allowedCorsOrigins[0] 'https://foo:123/' is a URL, not an origin: use 'https://foo:123'",
      );
      // nothing was left listening: the port is free again
      const probe = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', () => resolve(false));
      });
      expect(probe).toBe(false);
    } finally {
      await clients.remove();
    }
  });

  it('names the clients file and the fix for an unreadable file or a bad redirect URI', async () => {
    await expect(bootstrap({ clientsFile: '/nonexistent/clients.json', logger: false })).rejects.toThrow(
      'Clients file /nonexistent/clients.json:\n  - cannot be read (ENOENT): create it or point CLIENTS_FILE at one',
    );
    const clients = await tempClientsFile([{ clientId: 'spa', redirectUris: ['/callback.html'], allowedCorsOrigins: ['http://localhost:4200'] }]);
    try {
      await expect(bootstrap({ clientsFile: clients.file, logger: false })).rejects.toThrow(
        "client 'spa': redirectUris[0] '/callback.html' is not an absolute URL: use e.g. 'http://localhost:4200/callback.html'",
      );
    } finally {
      await clients.remove();
    }
  });

  describe('a port in use', () => {
    let taken: Server;
    let busy: number;
    beforeEach(async () => {
      taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, resolve));
      busy = (taken.address() as { port: number }).port;
    });
    afterEach(() => new Promise<void>((resolve) => taken.close(() => resolve())));

    it.each([
      ['PORT', (busy: number, free: number) => ({ port: busy, spaPorts: [free] }), (busy: number) => `set PORT to a free port (e.g. PORT=${busy + 1})`],
      ['SPA_PORTS', (busy: number, free: number) => ({ port: free, spaPorts: [busy] }), (busy: number) => `set SPA_PORTS to a free port (e.g. SPA_PORTS=${busy + 1})`],
    ] as const)('is reported once, naming %s, without a log from Nest first', async (_variable, ports, fix) => {
      const logger = new CaptureLogger();
      await expect(bootstrap({ ...ports(busy, await freePort()), logger })).rejects.toThrow(`port ${busy} is in use by another program: stop it, or ${fix(busy)}`);
      expect(logger.at('error')).toEqual([]);
    });
  });

  it('refuses the same port for two servers, naming both variables', async () => {
    const port = await freePort();
    await expect(bootstrap({ port, spaPorts: [port], logger: false })).rejects.toThrow(`port ${port} is given twice (PORT ${port}, SPA_PORTS ${port}): give every server its own port`);
  });

  it.each(samplePlatforms())('prints debug lines only when LOG_LEVEL asks for them, on %s', async (platform) => {
    expect(optionsFromEnv({ LOG_LEVEL: 'debug' })).toEqual({ logger: ['fatal', 'error', 'warn', 'log', 'debug'] });
    expect(() => optionsFromEnv({ LOG_LEVEL: 'chatty' })).toThrow("LOG_LEVEL 'chatty' is not a log level: use one of fatal, error, warn, log, debug, verbose");

    /** What Nest's console logger prints while the sample answers its denied origin (the start-up banner asks the same). */
    const printedForDeniedOrigin = async (options: SampleOptions) => {
      Logger.overrideLogger(new ConsoleLogger()); // as in a fresh process: Nest's console logger, debug lines included
      const printed: string[] = [];
      const [stdout, stderr] = [process.stdout.write, process.stderr.write];
      // start-up lines (and, on stderr, earlier tests' failed start-ups, still in Nest's static log buffer) are not shown
      process.stdout.write = process.stderr.write = ((chunk: string | Uint8Array) => (printed.push(String(chunk)), true)) as typeof process.stdout.write;
      let sample: TestSample | undefined;
      try {
        sample = await startTestSample({ logger: undefined, platform, ...options } as SampleOptions); // undefined: the sample's own default
        printed.length = 0;
        await request(sample.app.getHttpServer()).get('/.well-known/openid-configuration').set('Origin', sample.deniedOrigin);
        return printed.join('');
      } finally {
        [process.stdout.write, process.stderr.write] = [stdout, stderr];
        await sample?.stop();
        Logger.overrideLogger(['fatal', 'error', 'warn', 'log']);
      }
    };
    // Another app's start-up lines may land in the window (Nest buffers them): the claim is about DEBUG lines.
    expect(await printedForDeniedOrigin({})).not.toMatch(/DEBUG/);
    expect(await printedForDeniedOrigin(optionsFromEnv({ LOG_LEVEL: 'debug' }))).toMatch(/DEBUG.*CORS request denied \(service-denied, policy 'IdentityServer'\)/);
  });

  it('reads ports, issuer and clients file from the environment, naming a bad value', () => {
    expect(optionsFromEnv({ PORT: '3001', SPA_PORTS: '4201,4301', ISSUER: 'http://id.local:3001', CLIENTS_FILE: '/tmp/c.json' })).toEqual({
      port: 3001, spaPorts: [4201, 4301], issuer: 'http://id.local:3001', clientsFile: '/tmp/c.json',
    });
    expect(optionsFromEnv({ SPA_PORT: '5200' })).toEqual({ spaPorts: [5200, 4300] });
    expect(optionsFromEnv({})).toEqual({});
    expect(() => optionsFromEnv({ PORT: 'abc' })).toThrow("PORT='abc' is not a port: use a whole number such as 4200");
    expect(() => optionsFromEnv({ SPA_PORTS: '4200,70000' })).toThrow('SPA_PORTS 70000 is not a port: use a whole number from 1 to 65535');
  });

  it('reads PLATFORM, and rejects an unknown one naming it and the accepted values', async () => {
    expect(optionsFromEnv({ PLATFORM: 'fastify' })).toEqual({ platform: 'fastify' });
    expect(optionsFromEnv({ PLATFORM: 'express' })).toEqual({ platform: 'express' });
    const message = (value: string) => `PLATFORM '${value}' is not a platform the sample runs on: use 'express' or 'fastify' (e.g. PLATFORM=fastify)`;
    expect(() => optionsFromEnv({ PLATFORM: 'koa' })).toThrow(message('koa'));
    expect(() => optionsFromEnv({ PLATFORM: 'Fastify' })).toThrow(message('Fastify'));
    await expect(bootstrap({ platform: 'koa' as never, logger: false })).rejects.toThrow(message('koa'));
  });

  it('runs its tests on the platforms NEST_PLATFORM names: both when unset, one when set, an error naming a bad one', () => {
    expect(samplePlatforms({})).toEqual(['express', 'fastify']);
    expect(samplePlatforms({ NEST_PLATFORM: 'fastify' })).toEqual(['fastify']);
    expect(() => samplePlatforms({ NEST_PLATFORM: 'koa' })).toThrow("NEST_PLATFORM 'koa' is not a platform of the sample: use express or fastify, or unset it for both");
  });
});
