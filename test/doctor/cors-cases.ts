/**
 * Server behaviours, correct and broken, each with the request a page makes and what a browser decides.
 * doctor.browser.spec.ts runs each through headless Chromium's fetch and through the doctor; to add a case,
 * add a row here. The raw server (cors-case-server.ts) serves case `name` at /case/<name>, its redirect target
 * at /case/<name>/target on a second port; `nest` rows go to a Nest app with IdentityCorsModule instead.
 */
import type { CorsBlockReason, CorsStep, CorsWarning } from '../../lib/doctor/reasons.js';

export type Pairs = Array<[string, string]>;

export interface CaseContext {
  /** The request's Origin header (`null` after a cross-origin redirect), or '' without one. */
  origin: string;
  /** The page's origin (the request's Origin before any redirect). */
  page: string;
  /** The second port of the case server, for cross-origin redirects: `http://127.0.0.1:<port>`. */
  other: string;
}

export interface Answer {
  status?: number;
  headers?: (ctx: CaseContext) => Pairs;
}

export interface CorsCase {
  name: string;
  request?: { method?: string; headers?: Record<string, string>; credentials?: boolean };
  /** The OPTIONS answer (default 404 without CORS headers). */
  preflight?: Answer;
  /** Any other method's answer (default 200 without CORS headers). */
  actual?: Answer;
  /** The answer at /case/<name>/target (on either port) to other methods than OPTIONS. */
  target?: Answer;
  /** The answer at /case/<name>/target to OPTIONS (default 404 without CORS headers). */
  targetPreflight?: Answer;
  /** Instead of the raw server: this path of the Nest app, called from the page origin it allows or another. */
  nest?: { path: string; page: 'allowed' | 'denied' };
  /** The outcome the row is about, so that a row cannot pass by both sides being wrong the same way. */
  expected: 'allowed' | [CorsStep, CorsBlockReason];
  /** Warnings the doctor must give (a browser gives none); rows without this field must get none. */
  warnings?: CorsWarning[];
  /** Also compare the response headers script can read. */
  compareReadable?: boolean;
}

const acao = (ctx: CaseContext): Pairs => [['Access-Control-Allow-Origin', ctx.origin], ['Vary', 'Origin']];
/** Credentials allowed for the page's origin only (a server that reflects any origin gets a warning). */
const withCredentials = (ctx: CaseContext): Pairs => (ctx.origin === ctx.page ? [...acao(ctx), ['Access-Control-Allow-Credentials', 'true']] : [['Vary', 'Origin']]);
const preflightOk = (methods: string, headers = '') => (ctx: CaseContext): Pairs => [
  ...acao(ctx),
  ['Access-Control-Allow-Methods', methods],
  ...(headers ? ([['Access-Control-Allow-Headers', headers]] as Pairs) : []),
];
const ok = { headers: acao };

export const CORS_CASES: CorsCase[] = [
  // --- the CORS check of a simple request ---
  { name: 'simple-exact-origin', actual: ok, expected: 'allowed' },
  { name: 'simple-wildcard', actual: { headers: () => [['Access-Control-Allow-Origin', '*']] }, expected: 'allowed' },
  { name: 'simple-no-allow-origin', expected: ['actual', 'allow-origin-missing'] },
  { name: 'simple-other-origin', actual: { headers: () => [['Access-Control-Allow-Origin', 'http://127.0.0.1:1']] }, expected: ['actual', 'allow-origin-mismatch'] },
  { name: 'simple-origin-trailing-slash', actual: { headers: (c) => [['Access-Control-Allow-Origin', `${c.origin}/`]] }, expected: ['actual', 'allow-origin-mismatch'] },
  { name: 'simple-origin-upper-case', actual: { headers: (c) => [['Access-Control-Allow-Origin', c.origin.toUpperCase()]] }, expected: ['actual', 'allow-origin-mismatch'] },
  { name: 'simple-two-allow-origin-headers', actual: { headers: (c) => [['Access-Control-Allow-Origin', c.origin], ['Access-Control-Allow-Origin', c.origin]] }, expected: ['actual', 'allow-origin-multiple'] },
  { name: 'simple-allow-origin-list', actual: { headers: (c) => [['Access-Control-Allow-Origin', `${c.origin}, http://127.0.0.1:1`]] }, expected: ['actual', 'allow-origin-multiple'] },
  { name: 'simple-text-plain-post', request: { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' } }, actual: ok, expected: 'allowed' },
  // --- credentials ---
  { name: 'credentials-wildcard', request: { credentials: true }, actual: { headers: () => [['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Credentials', 'true']] }, expected: ['actual', 'allow-origin-wildcard-with-credentials'] },
  { name: 'credentials-no-allow-credentials', request: { credentials: true }, actual: ok, expected: ['actual', 'allow-credentials-missing'] },
  { name: 'credentials-allow-credentials-upper-case', request: { credentials: true }, actual: { headers: (c) => [...acao(c), ['Access-Control-Allow-Credentials', 'TRUE']] }, expected: ['actual', 'allow-credentials-missing'] },
  { name: 'credentials-exact-origin', request: { credentials: true }, actual: { headers: withCredentials }, expected: 'allowed' },
  // --- preflights ---
  { name: 'put-preflight-ok', request: { method: 'PUT' }, preflight: { status: 204, headers: preflightOk('GET, PUT') }, actual: ok, expected: 'allowed' },
  { name: 'put-preflight-no-allow-origin', request: { method: 'PUT' }, preflight: { status: 204, headers: () => [['Access-Control-Allow-Methods', 'PUT']] }, actual: ok, expected: ['preflight', 'allow-origin-missing'] },
  { name: 'put-preflight-method-missing', request: { method: 'PUT' }, preflight: { status: 204, headers: preflightOk('GET, POST') }, actual: ok, expected: ['preflight', 'method-not-allowed'] },
  { name: 'put-preflight-methods-wildcard', request: { method: 'PUT' }, preflight: { status: 204, headers: preflightOk('*') }, actual: ok, expected: 'allowed' },
  {
    name: 'put-preflight-methods-wildcard-with-credentials',
    request: { method: 'PUT', credentials: true },
    preflight: { status: 204, headers: (c) => [...withCredentials(c), ['Access-Control-Allow-Methods', '*']] },
    actual: { headers: withCredentials },
    expected: ['preflight', 'method-not-allowed'],
  },
  { name: 'put-preflight-methods-lower-case', request: { method: 'PUT' }, preflight: { status: 204, headers: preflightOk('put') }, actual: ok, expected: ['preflight', 'method-not-allowed'] },
  { name: 'patch-lower-case-against-upper-case', request: { method: 'patch' }, preflight: { status: 204, headers: preflightOk('PATCH') }, actual: ok, expected: ['preflight', 'method-not-allowed'] },
  { name: 'put-preflight-404', request: { method: 'PUT' }, preflight: { status: 404, headers: preflightOk('PUT') }, actual: ok, expected: ['preflight', 'preflight-status'] },
  { name: 'put-preflight-500-no-cors', request: { method: 'PUT' }, preflight: { status: 500 }, actual: ok, expected: ['preflight', 'allow-origin-missing'] },
  {
    name: 'put-preflight-redirect',
    request: { method: 'PUT' },
    preflight: { status: 301, headers: (c) => [...preflightOk('PUT')(c), ['Location', '/case/put-preflight-redirect/']] },
    actual: ok,
    expected: ['preflight', 'preflight-redirect'],
  },
  {
    name: 'put-preflight-ok-actual-404',
    request: { method: 'PUT' },
    preflight: { status: 204, headers: preflightOk('PUT') },
    actual: { status: 404, headers: acao },
    expected: 'allowed',
    warnings: ['preflight-ok-actual-not-found'],
  },
  { name: 'simple-without-vary', actual: { headers: (c) => [['Access-Control-Allow-Origin', c.origin]] }, expected: 'allowed', warnings: ['vary-origin-missing'] },
  {
    name: 'credentials-reflecting-any-origin',
    request: { credentials: true },
    actual: { headers: (c) => [...acao(c), ['Access-Control-Allow-Credentials', 'true']] },
    expected: 'allowed',
    warnings: ['credentials-with-reflected-origin'],
  },
  // --- request headers ---
  { name: 'header-not-allowed', request: { headers: { 'X-Api-Key': 'k' } }, preflight: { status: 204, headers: preflightOk('GET', 'Content-Type') }, actual: ok, expected: ['preflight', 'header-not-allowed'] },
  { name: 'header-allowed-case-insensitive', request: { headers: { 'X-Api-Key': 'k' } }, preflight: { status: 204, headers: preflightOk('GET', 'X-API-KEY') }, actual: ok, expected: 'allowed' },
  { name: 'header-wildcard', request: { headers: { 'X-Api-Key': 'k' } }, preflight: { status: 204, headers: preflightOk('GET', '*') }, actual: ok, expected: 'allowed' },
  {
    name: 'header-wildcard-with-credentials',
    request: { headers: { 'X-Api-Key': 'k' }, credentials: true },
    preflight: { status: 204, headers: (c) => [...withCredentials(c), ['Access-Control-Allow-Headers', '*']] },
    actual: { headers: withCredentials },
    expected: ['preflight', 'header-not-allowed'],
  },
  // the Fetch standard blocks this; Chromium (like every shipping browser) allows it: the doctor warns
  {
    name: 'authorization-wildcard',
    request: { headers: { Authorization: 'Bearer t' } },
    preflight: { status: 204, headers: preflightOk('GET', '*') },
    actual: ok,
    expected: 'allowed',
    warnings: ['authorization-not-covered-by-wildcard'],
  },
  { name: 'authorization-listed', request: { headers: { Authorization: 'Bearer t' } }, preflight: { status: 204, headers: preflightOk('GET', '*, authorization') }, actual: ok, expected: 'allowed' },
  { name: 'content-type-json-not-allowed', request: { method: 'POST', headers: { 'Content-Type': 'application/json' } }, preflight: { status: 204, headers: preflightOk('POST') }, actual: ok, expected: ['preflight', 'header-not-allowed'] },
  { name: 'accept-language-unsafe-value', request: { headers: { 'Accept-Language': 'en_US' } }, actual: ok, expected: ['preflight', 'allow-origin-missing'] },
  { name: 'accept-over-128-bytes', request: { headers: { Accept: `text/html${',text/plain'.repeat(13)}` } }, actual: ok, expected: ['preflight', 'allow-origin-missing'] },
  { name: 'allow-methods-unparsable', request: { method: 'PUT' }, preflight: { status: 204, headers: preflightOk('PUT, GE T') }, actual: ok, expected: ['preflight', 'allow-list-invalid'] },
  // --- redirects of the actual request ---
  {
    name: 'redirect-same-origin',
    actual: { status: 302, headers: (c) => [...acao(c), ['Location', '/case/redirect-same-origin/target']] },
    target: ok,
    expected: 'allowed',
  },
  {
    name: 'redirect-without-allow-origin',
    actual: { status: 302, headers: () => [['Location', '/case/redirect-without-allow-origin/target']] },
    expected: ['redirect', 'allow-origin-missing'],
  },
  {
    name: 'redirect-cross-origin-target-names-page',
    actual: { status: 307, headers: (c) => [...acao(c), ['Location', `${c.other}/case/redirect-cross-origin-target-names-page/target`]] },
    target: { headers: (c) => [['Access-Control-Allow-Origin', c.page]] }, // the request's Origin is null by now
    expected: ['actual', 'allow-origin-mismatch'],
  },
  {
    name: 'redirect-cross-origin-target-wildcard',
    actual: { status: 307, headers: (c) => [...acao(c), ['Location', `${c.other}/case/redirect-cross-origin-target-wildcard/target`]] },
    target: { headers: () => [['Access-Control-Allow-Origin', '*']] },
    expected: 'allowed',
  },
  {
    name: 'put-redirect-preflights-again',
    request: { method: 'PUT' },
    preflight: { status: 204, headers: preflightOk('PUT') },
    actual: { status: 307, headers: (c) => [...acao(c), ['Location', '/case/put-redirect-preflights-again/target']] },
    target: ok,
    expected: ['preflight', 'allow-origin-missing'],
  },
  {
    name: 'put-redirect-both-preflights-ok',
    request: { method: 'PUT' },
    preflight: { status: 204, headers: preflightOk('PUT') },
    actual: { status: 307, headers: (c) => [...acao(c), ['Location', '/case/put-redirect-both-preflights-ok/target']] },
    target: ok,
    targetPreflight: { status: 204, headers: preflightOk('PUT') },
    expected: 'allowed',
  },
  // --- what script can read ---
  { name: 'exposed-header-listed', actual: { headers: (c) => [...acao(c), ['X-Total', '3'], ['Access-Control-Expose-Headers', 'X-Total']] }, expected: 'allowed', compareReadable: true },
  { name: 'exposed-header-missing', actual: { headers: (c) => [...acao(c), ['X-Total', '3']] }, expected: 'allowed', compareReadable: true },
  {
    name: 'exposed-wildcard-with-credentials',
    request: { credentials: true },
    actual: { headers: (c) => [...withCredentials(c), ['X-Total', '3'], ['Access-Control-Expose-Headers', '*']] },
    expected: 'allowed',
    compareReadable: true,
  },
  // --- the library's identity paths (a Nest app with IdentityCorsModule) ---
  { name: 'nest-discovery-allowed-origin', nest: { path: '/.well-known/openid-configuration', page: 'allowed' }, expected: 'allowed', compareReadable: true },
  { name: 'nest-discovery-denied-origin', nest: { path: '/.well-known/openid-configuration', page: 'denied' }, expected: ['actual', 'allow-origin-missing'] },
  { name: 'nest-userinfo-bearer-allowed-origin', request: { headers: { Authorization: 'Bearer t' } }, nest: { path: '/connect/userinfo', page: 'allowed' }, expected: 'allowed' },
  { name: 'nest-userinfo-bearer-denied-origin', request: { headers: { Authorization: 'Bearer t' } }, nest: { path: '/connect/userinfo', page: 'denied' }, expected: ['preflight', 'allow-origin-missing'] },
  {
    name: 'nest-token-form-post-allowed-origin',
    request: { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
    nest: { path: '/connect/token', page: 'allowed' },
    expected: 'allowed',
  },
];
