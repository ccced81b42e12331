/**
 * The CORS rules of the WHATWG Fetch standard, as pure functions (no I/O, no framework): what a browser's
 * `fetch` decides about a cross-origin request and the answers it gets. Section names in the comments are the
 * standard's; where Chromium differs or the standard leaves a choice open, the comment says so.
 *
 * Over 200 lines because it is the standard's CORS rules in one place, each a small pure function tested on its own.
 */
import type { CorsBlockReason } from './reasons.js';

/** A header list in order, names as given (HTTP header names are case-insensitive). */
export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

/** A failed check: the reason, what the browser saw, and a fix that makes the check pass. */
export interface CheckFailure {
  reason: CorsBlockReason;
  because: string;
  fix: string;
}

/**
 * "get" a header from a header list: every value of that name, joined by ", " (how the standard and browsers
 * combine repeated headers), or null without one.
 */
export function getHeader(headers: HeaderList, name: string): string | null {
  const lower = name.toLowerCase();
  const values = headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
  return values.length === 0 ? null : values.join(', ');
}

// --- Methods ("methods" section) ---

const SAFELISTED_METHODS = new Set(['GET', 'HEAD', 'POST']);
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A method or header name is an HTTP token. */
export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

/** "normalize" a method: only these six are upper-cased; `patch` stays `patch`, and is sent as such. */
export function normalizeMethod(method: string): string {
  const upper = method.toUpperCase();
  return NORMALIZED_METHODS.has(upper) ? upper : method;
}

/** "CORS-safelisted method": GET, HEAD, POST (after normalization; case-sensitive). */
export function isCorsSafelistedMethod(method: string): boolean {
  return SAFELISTED_METHODS.has(method);
}

/** "forbidden method": `fetch` throws on these, so no request is made. */
export function isForbiddenMethod(method: string): boolean {
  return FORBIDDEN_METHODS.has(method.toUpperCase());
}

// --- Request headers ("CORS-safelisted request-header", "forbidden request-header") ---

const FORBIDDEN_HEADER_NAMES = new Set([
  'accept-charset', 'accept-encoding', 'access-control-request-headers', 'access-control-request-method',
  'connection', 'content-length', 'cookie', 'cookie2', 'date', 'dnt', 'expect', 'host', 'keep-alive', 'origin',
  'referer', 'set-cookie', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'via',
]);

/**
 * "forbidden request-header": names script may not set (the browser sets them itself, or drops them).
 * The X-HTTP-Method(-Override) rule (forbidden only with a forbidden method as value) is left out.
 */
export function isForbiddenRequestHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return FORBIDDEN_HEADER_NAMES.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-');
}

/** "CORS-unsafe request-header byte": controls but tab, DEL, and `"():<>?@[\]{}`. */
function hasCorsUnsafeByte(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || '"():<>?@[\\]{}'.includes(value[i]!)) return true;
  }
  return false;
}

const LANGUAGE_VALUE = /^[0-9A-Za-z *,\-.;=]*$/;
const SAFELISTED_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);
const MIME_ESSENCE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The MIME type essence ("type/subtype", lower-case) of a Content-Type value, or null if it does not parse. */
function mimeEssence(value: string): string | null {
  const essence = value.split(';', 1)[0]!.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  return MIME_ESSENCE.test(essence) ? essence.toLowerCase() : null;
}

/** "simple range header value" (without whitespace): `bytes=N-` or `bytes=N-M` with N <= M. */
function isSimpleRange(value: string): boolean {
  const match = /^bytes=([0-9]+)-([0-9]*)$/.exec(value);
  return match !== null && (match[2] === '' || Number(match[1]) <= Number(match[2]));
}

/**
 * "CORS-safelisted request-header": one of five names, with a value of at most 128 bytes that meets the
 * name's rule. Chromium safelists a few client hints besides; they are left out here.
 */
export function isCorsSafelistedRequestHeader(name: string, value: string): boolean {
  if (value.length > 128) return false; // values are byte strings: one character is one byte
  switch (name.toLowerCase()) {
    case 'accept':
      return !hasCorsUnsafeByte(value);
    case 'accept-language':
    case 'content-language':
      return LANGUAGE_VALUE.test(value);
    case 'content-type': {
      if (hasCorsUnsafeByte(value)) return false;
      const essence = mimeEssence(value);
      return essence !== null && SAFELISTED_CONTENT_TYPES.has(essence);
    }
    case 'range':
      return isSimpleRange(value);
    default:
      return false;
  }
}

/** Above this total of safelisted values, every safelisted header counts as unsafe too. */
export const MAX_SAFELISTED_VALUES_SIZE = 1024;

/**
 * "CORS-unsafe request-header names": the lower-case, sorted, de-duplicated names the preflight announces in
 * `Access-Control-Request-Headers`. Safelisted headers join them when their values total over 1024 bytes.
 */
export function corsUnsafeRequestHeaderNames(headers: HeaderList): string[] {
  const unsafe = new Set<string>();
  const potentiallyUnsafe: string[] = [];
  let safelistValueSize = 0;
  for (const [name, value] of headers) {
    if (!isCorsSafelistedRequestHeader(name, value)) unsafe.add(name.toLowerCase());
    else {
      potentiallyUnsafe.push(name.toLowerCase());
      safelistValueSize += value.length;
    }
  }
  if (safelistValueSize > MAX_SAFELISTED_VALUES_SIZE) for (const name of potentiallyUnsafe) unsafe.add(name);
  return [...unsafe].sort();
}

/** Why a preflight is needed ("main fetch": unsafe method or headers), empty when it is not. */
export function preflightCauses(method: string, headers: HeaderList): string[] {
  const causes: string[] = [];
  if (!isCorsSafelistedMethod(method)) causes.push(`method ${method} is not CORS-safelisted (only GET, HEAD and POST are)`);
  const safelistTotal = headers.filter(([n, v]) => isCorsSafelistedRequestHeader(n, v)).reduce((sum, [, v]) => sum + v.length, 0);
  for (const name of corsUnsafeRequestHeaderNames(headers)) {
    const unsafeEntry = headers.find(([n, v]) => n.toLowerCase() === name && !isCorsSafelistedRequestHeader(n, v));
    if (!unsafeEntry) causes.push(`header ${name}: safelisted header values total ${safelistTotal} bytes, over ${MAX_SAFELISTED_VALUES_SIZE}`);
    else if (!SAFELISTED_NAMES.has(name)) causes.push(`header ${name} is not CORS-safelisted`);
    else causes.push(`header ${name} has a value that is not CORS-safelisted (${whyValueUnsafe(name, unsafeEntry[1])})`);
  }
  return causes;
}

const SAFELISTED_NAMES = new Set(['accept', 'accept-language', 'content-language', 'content-type', 'range']);

function whyValueUnsafe(name: string, value: string): string {
  if (value.length > 128) return `longer than 128 bytes`;
  if (name === 'accept-language' || name === 'content-language') return 'only letters, digits, space and *,-.;= are';
  if (name === 'range') return 'only bytes=N- or bytes=N-M is';
  if (hasCorsUnsafeByte(value)) return `contains a byte among "():<>?@[\\]{} or a control`;
  return 'only application/x-www-form-urlencoded, multipart/form-data and text/plain are';
}

// --- The CORS check ("CORS check") ---

/**
 * "CORS check" of an answer (preflight, redirect or actual): `Access-Control-Allow-Origin` must be the
 * request's serialized origin byte for byte, or `*` when credentials are not included; with credentials,
 * `Access-Control-Allow-Credentials` must be exactly `true`. Returns null when it passes.
 */
export function corsCheck(origin: string, credentials: boolean, response: HeaderList): CheckFailure | null {
  const allowOrigin = getHeader(response, 'access-control-allow-origin');
  const credentialsHint = credentials ? ' and Access-Control-Allow-Credentials: true' : '';
  if (allowOrigin === null) {
    return {
      reason: 'allow-origin-missing',
      because: 'the answer has no Access-Control-Allow-Origin header',
      fix: `answer with Access-Control-Allow-Origin: ${origin}${credentialsHint}`,
    };
  }
  if (allowOrigin.includes(',')) {
    return {
      reason: 'allow-origin-multiple',
      because: `Access-Control-Allow-Origin has several values ('${allowOrigin}') and a browser accepts exactly one`,
      fix: `send one header, with the one origin asking: Access-Control-Allow-Origin: ${origin}`,
    };
  }
  if (!credentials && allowOrigin === '*') return null;
  if (allowOrigin === '*') {
    return {
      reason: 'allow-origin-wildcard-with-credentials',
      because: "Access-Control-Allow-Origin is '*', which a request with credentials never accepts",
      fix: `answer with the origin itself, Access-Control-Allow-Origin: ${origin}, and Access-Control-Allow-Credentials: true (or send the request without credentials)`,
    };
  }
  if (allowOrigin !== origin) {
    return {
      reason: 'allow-origin-mismatch',
      because: `Access-Control-Allow-Origin is '${allowOrigin}', not the page's origin '${origin}' (compared byte for byte)`,
      fix: `answer with Access-Control-Allow-Origin: ${origin}`,
    };
  }
  if (!credentials) return null;
  const allowCredentials = getHeader(response, 'access-control-allow-credentials');
  if (allowCredentials !== 'true') {
    return {
      reason: 'allow-credentials-missing',
      because:
        allowCredentials === null
          ? 'the request includes credentials and the answer has no Access-Control-Allow-Credentials header'
          : `the request includes credentials and Access-Control-Allow-Credentials is '${allowCredentials}', not exactly 'true'`,
      fix: 'answer with Access-Control-Allow-Credentials: true (or send the request without credentials)',
    };
  }
  return null;
}

/** "ok status": 200 to 299. */
export function isOkStatus(status: number): boolean {
  return status >= 200 && status <= 299;
}

/** "redirect status". */
export function isRedirectStatus(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

// --- The preflight's answer ("CORS-preflight fetch") ---

/**
 * "extract header list values" for `Access-Control-Allow-Methods` / `-Allow-Headers`: comma-separated
 * tokens, whitespace around them ignored, empty items skipped (as Chromium does). null when absent;
 * 'invalid' when an item is not a token, which fails the preflight.
 */
export function parseAllowList(value: string | null): string[] | 'invalid' | null {
  if (value === null) return null;
  const items = value.split(',').map((item) => item.replace(/^[ \t]+|[ \t]+$/g, '')).filter((item) => item !== '');
  return items.every(isToken) ? items : 'invalid';
}

/**
 * The method check of "CORS-preflight fetch": a safelisted method always passes; otherwise the method must be
 * listed byte for byte (`put` does not allow PUT, `PATCH` does not allow `patch`: Chromium agrees), or `*`
 * must be listed without credentials.
 */
export function isMethodAllowed(method: string, allowMethods: readonly string[], credentials: boolean): boolean {
  if (isCorsSafelistedMethod(method) || allowMethods.includes(method)) return true;
  return !credentials && allowMethods.includes('*');
}

/**
 * Whether `Access-Control-Allow-Headers: *` lets `Authorization` through. The standard says never (a "CORS
 * non-wildcard request-header name"); every shipping browser still lets it (Chromium only logs a deprecation,
 * see whatwg/fetch#1919), so the doctor follows the browsers and warns.
 */
export interface PreflightRuleOptions {
  wildcardCoversAuthorization?: boolean;
}

/** Authorization is sent and only `*` (without credentials) lets it through. */
export function authorizationOnlyByWildcard(headers: HeaderList, allowHeaders: string | null, credentials: boolean): boolean {
  const list = parseAllowList(allowHeaders);
  if (!Array.isArray(list) || credentials) return false;
  const lower = list.map((h) => h.toLowerCase());
  return headers.some(([n]) => n.toLowerCase() === 'authorization') && !lower.includes('authorization') && lower.includes('*');
}

/**
 * Checks a preflight's answer as "CORS-preflight fetch" does, in its order: the CORS check, an ok status,
 * the two lists parse, the method, Authorization (never covered by `*`), then each unsafe header name
 * (case-insensitive; `*` only without credentials). A redirect is checked by the caller (it comes first).
 */
export function checkPreflightAnswer(
  request: { origin: string; method: string; headers: HeaderList; credentials: boolean },
  response: { status: number; headers: HeaderList },
  options: PreflightRuleOptions = {},
): CheckFailure | null {
  const cors = corsCheck(request.origin, request.credentials, response.headers);
  if (cors) return cors;
  if (!isOkStatus(response.status)) {
    return {
      reason: 'preflight-status',
      because: `the preflight's answer has status ${response.status}, and a preflight needs 200–299`,
      fix: 'answer OPTIONS on this URL with 204 (or 200) and the CORS headers; a route that handles only GET/POST, or an auth guard in front of OPTIONS, causes this',
    };
  }
  const methods = parseAllowList(getHeader(response.headers, 'access-control-allow-methods'));
  const headerNames = parseAllowList(getHeader(response.headers, 'access-control-allow-headers'));
  for (const [name, list] of [['Access-Control-Allow-Methods', methods], ['Access-Control-Allow-Headers', headerNames]] as const) {
    if (list === 'invalid') {
      return {
        reason: 'allow-list-invalid',
        because: `${name} ('${getHeader(response.headers, name)}') is not a comma-separated list of tokens`,
        fix: `send ${name} as names separated by commas, e.g. ${name === 'Access-Control-Allow-Methods' ? 'GET, POST, PUT' : 'Content-Type, Authorization'}`,
      };
    }
  }
  const allowMethods = (methods ?? []) as string[];
  const allowHeaders = ((headerNames ?? []) as string[]).map((h) => h.toLowerCase());
  if (!isMethodAllowed(request.method, allowMethods, request.credentials)) {
    const starNote = allowMethods.includes('*') ? " ('*' is a literal method name with credentials)" : '';
    return {
      reason: 'method-not-allowed',
      because: `method ${request.method} is not in Access-Control-Allow-Methods (${methods === null ? 'absent' : `'${allowMethods.join(', ')}'`})${starNote}`,
      fix: `add ${request.method} to Access-Control-Allow-Methods, spelled exactly so (methods are case-sensitive)`,
    };
  }
  const unsafe = corsUnsafeRequestHeaderNames(request.headers);
  const sendsAuthorization = request.headers.some(([n]) => n.toLowerCase() === 'authorization');
  const wildcardCoversAuthorization = options.wildcardCoversAuthorization ?? true;
  if (!wildcardCoversAuthorization && sendsAuthorization && !allowHeaders.includes('authorization') && allowHeaders.includes('*')) {
    return {
      reason: 'authorization-not-covered-by-wildcard',
      because: "the request sends Authorization and Access-Control-Allow-Headers has only '*' for it, which never covers Authorization",
      fix: 'list Authorization by name in Access-Control-Allow-Headers (e.g. *, Authorization)',
    };
  }
  for (const name of unsafe) {
    if (allowHeaders.includes(name)) continue;
    if (!request.credentials && allowHeaders.includes('*') && (name !== 'authorization' || wildcardCoversAuthorization)) continue;
    const starNote = allowHeaders.includes('*') && request.credentials ? " ('*' is a literal header name with credentials)" : '';
    return {
      reason: 'header-not-allowed',
      because: `request header ${name} is not in Access-Control-Allow-Headers (${headerNames === null ? 'absent' : `'${allowHeaders.join(', ')}'`})${starNote}`,
      fix: `add ${name} to Access-Control-Allow-Headers`,
    };
  }
  return null;
}

/** The "implementation-defined" caps on `Access-Control-Max-Age`, in seconds, and the default without one. */
export const MAX_AGE_CAPS = { chromium: 7200, firefox: 86400 } as const;
export const DEFAULT_MAX_AGE = 5;

/** `Access-Control-Max-Age` as a browser reads it: seconds, or null when absent or not a number. */
export function parseMaxAge(value: string | null): number | null {
  if (value === null || !/^[0-9]+$/.test(value.trim())) return null;
  return Number(value.trim());
}

// --- Redirects ("HTTP-redirect fetch") ---

/**
 * The origin the next request carries after a redirect: the "tainted origin flag" is set, and the origin
 * serializes as `null`, when the redirect crosses origins and the page's origin differs from the URL left.
 */
export function originAfterRedirect(origin: string, from: URL, to: URL): string {
  if (origin === 'null') return 'null';
  return from.origin !== to.origin && origin !== from.origin ? 'null' : origin;
}

/**
 * The method after a redirect: 303 turns anything but GET/HEAD into GET, and 301/302 turn POST into GET;
 * then the body and its headers go.
 */
export function methodAfterRedirect(status: number, method: string): string {
  if ((status === 303 && method !== 'GET' && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) return 'GET';
  return method;
}

/** Request-body headers dropped when a redirect changes the method to GET. */
export const REQUEST_BODY_HEADERS = new Set(['content-encoding', 'content-language', 'content-location', 'content-type']);

// --- What script can read ("CORS-safelisted response-header name", "CORS filtered response") ---

const SAFELISTED_RESPONSE_HEADERS = ['cache-control', 'content-language', 'content-length', 'content-type', 'expires', 'last-modified', 'pragma'];
const NEVER_READABLE = new Set(['set-cookie', 'set-cookie2']);

/**
 * The response header names `response.headers` shows script after a CORS fetch: the safelisted ones plus those
 * listed in `Access-Control-Expose-Headers` (`*` exposes all but Set-Cookie, only without credentials), among
 * those actually present. Sorted and lower-case.
 */
export function readableResponseHeaders(response: HeaderList, credentials: boolean): string[] {
  const exposed = parseAllowList(getHeader(response, 'access-control-expose-headers'));
  const list = Array.isArray(exposed) ? exposed.map((h) => h.toLowerCase()) : [];
  const all = !credentials && list.includes('*');
  const present = new Set(response.map(([n]) => n.toLowerCase()));
  return [...present]
    .filter((name) => !NEVER_READABLE.has(name) && (all || SAFELISTED_RESPONSE_HEADERS.includes(name) || list.includes(name)))
    .sort();
}
