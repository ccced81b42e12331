// Origins and scenarios shared by the benchmark server, the orchestrator and the micro-benchmark.

/** The origin every "allowed" request sends; listed by the host policy and by one client in each identity configuration. */
export const ALLOWED_ORIGIN = 'https://app.example.test';
export const DENIED_ORIGIN = 'https://evil.example.test';

/** The 3 origins of `enableCors({ origin })`, of the host policy, and of the 3 clients. */
export const HOST_ORIGINS = ['https://admin.example.test', 'http://localhost:4200', ALLOWED_ORIGIN];
export const CLIENT_ORIGINS = HOST_ORIGINS;

export const LARGE_CLIENT_COUNT = 100_000;
export const largeClientOrigin = (i) => `https://client-${i}.tenants.example.test`;

/** Which path each configuration is measured on: host routes for a–c, an identity endpoint for d–f. */
export const CONFIGS = {
  a: { label: 'no CORS', path: '/api/ping' },
  b: { label: 'app.enableCors({ origin: [3] })', path: '/api/ping' },
  c: { label: 'library, host policy (3 origins)', path: '/api/ping' },
  d: { label: 'library, identity path, 3 clients', path: '/connect/userinfo' },
  e: { label: 'library, identity path, 100k clients', path: '/connect/userinfo' },
  f: { label: 'library, identity path, DB store + cache', path: '/connect/userinfo' },
};

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
