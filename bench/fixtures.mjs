// Origins and scenarios shared by the benchmark server, the orchestrator and the micro-benchmark.

/** The origin every "allowed" request sends; listed by the host policy and by one client in each identity configuration. */
export const ALLOWED_ORIGIN = 'https://app.example.test';
export const DENIED_ORIGIN = 'https://evil.example.test';
/** What an identity path's allowed actual response exposes (RULES 11), as the library writes it. */
export const IDENTITY_EXPOSED_HEADERS_VALUE = 'WWW-Authenticate,DPoP-Nonce';

/** The 3 origins of `enableCors({ origin })`, of the host policy, and of the 3 clients. */
export const HOST_ORIGINS = ['https://admin.example.test', 'http://localhost:4200', ALLOWED_ORIGIN];
export const CLIENT_ORIGINS = HOST_ORIGINS;

export const LARGE_CLIENT_COUNT = 100_000;
export const largeClientOrigin = (i) => `https://client-${i}.tenants.example.test`;

/**
 * Which path each configuration is measured on: host routes for a–c, an identity endpoint for d–f. a–f run on
 * Express (Nest's default platform); fa–fe are a–e on Fastify (FastifyAdapter), `like` naming the Express
 * configuration each mirrors (apps.mjs builds both from one recipe).
 */
export const CONFIGS = {
  a: { label: 'no CORS', path: '/api/ping' },
  b: { label: 'app.enableCors({ origin: [3] })', path: '/api/ping' },
  c: { label: 'library, host policy (3 origins)', path: '/api/ping' },
  d: { label: 'library, identity path, 3 clients', path: '/connect/userinfo' },
  e: { label: 'library, identity path, 100k clients', path: '/connect/userinfo' },
  f: { label: 'library, identity path, DB store + cache', path: '/connect/userinfo' },
  fa: { label: 'Fastify, no CORS', path: '/api/ping', platform: 'fastify', like: 'a' },
  fb: { label: 'Fastify, app.enableCors({ origin: [3] }) (@fastify/cors)', path: '/api/ping', platform: 'fastify', like: 'b' },
  fc: { label: 'Fastify, library, host policy (3 origins)', path: '/api/ping', platform: 'fastify', like: 'c' },
  fd: { label: 'Fastify, library, identity path, 3 clients', path: '/connect/userinfo', platform: 'fastify', like: 'd' },
  fe: { label: 'Fastify, library, identity path, 100k clients', path: '/connect/userinfo', platform: 'fastify', like: 'e' },
  // Not in a default run (BENCH_ONLY=a,h,i or fa,fh,fi): fixed CORS headers, nothing decided: what any CORS layer costs at least.
  h: { label: 'fixed CORS headers, no decision (a middleware; preflights on the HTTP server)', path: '/api/ping', optional: true },
  fh: { label: 'Fastify, fixed CORS headers, no decision (an onRequest hook; preflights on the HTTP server)', path: '/api/ping', platform: 'fastify', like: 'h', optional: true },
  // The same with the three headers of an allowed GET on an identity path ((d)'s, Access-Control-Expose-Headers too, RULES 11).
  i: { label: 'fixed identity CORS headers, no decision (a middleware; preflights on the HTTP server)', path: '/connect/userinfo', optional: true },
  fi: { label: 'Fastify, fixed identity CORS headers, no decision (an onRequest hook; preflights on the HTTP server)', path: '/connect/userinfo', platform: 'fastify', like: 'i', optional: true },
};

/** The configurations a run measures unless BENCH_ONLY names others. */
export const DEFAULT_CONFIGS = Object.keys(CONFIGS).filter((config) => !CONFIGS[config].optional);
/** The Express configuration a configuration mirrors (itself on Express). */
export const recipeOf = (config) => CONFIGS[config]?.like ?? config;
export const isFastify = (config) => CONFIGS[config]?.platform === 'fastify';
/** The bases a configuration's ratios are taken against, on its own platform: no CORS, and enableCors. */
export const basesOf = (config) => (isFastify(config) ? { none: 'fa', enableCors: 'fb' } : { none: 'a', enableCors: 'b' });

/**
 * `app.enableCors()`'s options on Fastify, (fb): the same origins as (b), and @fastify/cors's defaults made those
 * of the cors package where they differ, so that (fb) answers every scenario as (b) does: methods (cors:
 * GET,HEAD,PUT,PATCH,POST,DELETE; @fastify/cors: GET,HEAD,POST) and strictPreflight (cors has none: a preflight
 * without Origin or Access-Control-Request-Method is answered 204, not 400). Both reflect the requested headers,
 * answer 204 and send `Vary: Origin` for a list of origins.
 */
export const FASTIFY_CORS_OPTIONS = { origin: HOST_ORIGINS, methods: 'GET,HEAD,PUT,PATCH,POST,DELETE', strictPreflight: false };

export const SCENARIOS = {
  allowed: { label: 'GET, allowed Origin', method: 'GET', headers: { origin: ALLOWED_ORIGIN } },
  preflight: {
    label: 'preflight',
    method: 'OPTIONS',
    headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  },
  denied: { label: 'GET, denied Origin', method: 'GET', headers: { origin: DENIED_ORIGIN } },
  none: { label: 'GET, no Origin', method: 'GET', headers: {} },
};
