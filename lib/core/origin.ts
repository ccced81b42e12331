/**
 * Origins as browsers serialize them (RFC 6454 / WHATWG URL): `scheme://host[:port]`,
 * lower-case scheme and host, IDN hosts as punycode, default port dropped.
 * Framework-free: used by the policy core, the identity services and option validation.
 */
import { Memo, ownCopy } from './memo.js';

/** Longest `Origin` header value considered at all (a DNS name is at most 253 characters). */
export const MAX_ORIGIN_LENGTH = 300;
/** The longest protocol whose server origin is remembered (see serverOrigin); a longer one is computed every time. */
const MAX_SCHEME_LENGTH = 32;

/** The serialization of an opaque origin (sandboxed iframes, `file:` pages, some redirects). */
export const NULL_ORIGIN = 'null';

export class InvalidOriginError extends Error {
  constructor(
    readonly value: unknown,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidOriginError';
  }
}

export const EXAMPLE = "for example, use 'https://app.example.com' or 'http://localhost:4200'";
// scheme "://" authority, then whatever follows the authority (path, query or fragment)
export const ORIGIN_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;
// Characters never valid anywhere in a serialized origin; `new URL` would silently strip tabs and newlines.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\u0000-\u0020\u007f\\]/;

export function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/**
 * Returns the browser serialization of a configured origin, or throws an error that names the value
 * and says how to fix it. Accepts `'null'` (the opaque origin) only as itself.
 */
export function normalizeOrigin(value: unknown): string {
  if (typeof value === 'string' && value !== NULL_ORIGIN && value.trim() !== value) {
    throw whitespaceError(value, normalizeOrigin);
  }
  if (typeof value === 'string' && value.includes('*') && value !== '*') {
    throw new InvalidOriginError(
      value,
      `${quote(value)} has a wildcard: subdomain patterns are accepted only in a CORS policy's origins (withOrigins); list each origin here, for example, use 'https://app.example.com'`,
    );
  }
  return normalizeExactOrigin(value);
}


/** Whitespace around an entry: suggest the entry without it, as `parse` stores it, or say what is wrong with that too. */
export function whitespaceError(value: string, parse: (trimmed: string) => string): InvalidOriginError {
  const trimmed = value.trim();
  if (trimmed === '') {
    return new InvalidOriginError(value, `${quote(value)} is blank: remove the entry, or give an origin (scheme://host[:port]), for example, use 'https://app.example.com'`);
  }
  try {
    return new InvalidOriginError(value, `${quote(value)} has surrounding whitespace: use '${parse(trimmed)}'`);
  } catch (error) {
    return new InvalidOriginError(value, `${quote(value)} has surrounding whitespace, and without it: ${(error as Error).message}`);
  }
}

export function normalizeExactOrigin(value: unknown): string {
  if (typeof value !== 'string') {
    throw new InvalidOriginError(value, `${quote(value)} is not an origin: origins are strings, ${EXAMPLE}`);
  }
  if (value === NULL_ORIGIN) return NULL_ORIGIN;
  if (value.toLowerCase() === NULL_ORIGIN) {
    throw new InvalidOriginError(value, `${quote(value)} is not an origin: the opaque origin is spelled in lower case, use 'null'`);
  }
  if (value === '' || value === '*') {
    throw new InvalidOriginError(
      value,
      value === ''
        ? `'' is not an origin: remove the entry, or give an origin (scheme://host[:port]), for example, use 'https://app.example.com'`
        : `'*' is not an origin: use allowAnyOrigin() (or allowAll) to allow every origin`,
    );
  }
  if (value.length > MAX_ORIGIN_LENGTH) {
    throw new InvalidOriginError(value, `${quote(value)} is longer than ${MAX_ORIGIN_LENGTH} characters: no browser sends such an origin`);
  }
  const shape = ORIGIN_SHAPE.exec(value);
  if (!shape) {
    // Most often a host[:port] without its scheme: suggest it with a scheme (http for a loopback host) when that makes an origin.
    const hostAndPort = /^([^:/?#@\s\\]+)(:\d+)?$/.exec(value);
    const loopback = hostAndPort && /^(localhost|127\.\d+\.\d+\.\d+)$/i.test(hostAndPort[1]);
    const withScheme = hostAndPort ? originOf(`${loopback ? 'http' : 'https'}://${value}`) : undefined;
    const fix = withScheme ? `use '${withScheme}'` : EXAMPLE;
    throw new InvalidOriginError(value, `${quote(value)} is not an origin: an origin is scheme://host[:port]; ${fix}`);
  }
  const [, , authority, rest] = shape;
  if (FORBIDDEN_CHARS.test(value)) {
    throw new InvalidOriginError(value, `${quote(value)} contains a control, space or backslash character: an origin is scheme://host[:port], ${EXAMPLE}`);
  }
  if (authority.includes('@')) {
    const fixed = originOf(value.replace(/\/\/[^/?#]*@/, '//'));
    throw new InvalidOriginError(
      value,
      `${quote(value)} contains user info, which an origin never has${fixed ? `: use '${fixed}'` : ''}`,
    );
  }
  const origin = originOf(value);
  if (!origin) {
    throw new InvalidOriginError(value, `${quote(value)} is not a valid origin: the host or port cannot be parsed (${EXAMPLE})`);
  }
  if (rest !== '') {
    throw new InvalidOriginError(value, `${quote(value)} is a URL, not an origin: use '${origin}'`);
  }
  return origin;
}

/**
 * The serialized origin of `scheme://authority…`, or undefined if it has no valid host.
 * Special schemes (http, https, ws, wss, ftp) use the WHATWG serialization; other schemes
 * (e.g. `capacitor://localhost`, `chrome-extension://id`) keep their scheme and lower-cased host.
 */
function originOf(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.host === '' || url.username !== '' || url.password !== '') return undefined;
  if (url.origin !== NULL_ORIGIN) return url.origin;
  return `${url.protocol}//${url.host}`.toLowerCase();
}

/**
 * Recent answers of the pure origin checks below, keyed by the raw value. A browser sends the same few
 * origins over and over, so the costly `new URL` parse runs once per distinct value. Bounded by entry
 * count, and every key is at most MAX_ORIGIN_LENGTH characters, so hostile headers cannot grow it.
 */
const MEMO_SIZE = 1024;
const NOT_AN_ORIGIN = '';
/** Keyed by own copies of the values, each valid one its own answer: the origin every later step gets is that one string. */
const requestOrigins = new Memo<string>(MEMO_SIZE, true);
const serverOrigins = new Memo<string>(MEMO_SIZE);

/**
 * Request-side check (RULES 3): returns the value if it is exactly a serialized origin as a
 * browser sends it, otherwise undefined. Nothing is normalized: `HTTPS://A.COM`, `https://a.com/`
 * or `https://a.com:443` are not what a browser sends, so they are rejected rather than repaired.
 */
export function parseRequestOrigin(value: string | string[] | undefined): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ORIGIN_LENGTH) return undefined;
  if (value === NULL_ORIGIN) return value;
  let answer = requestOrigins.get(value);
  if (answer === undefined) {
    // The answer is the key itself: the memos and sets that the origin meets next (the identity policy's, the
    // client index's) then find it by identity rather than by comparing characters (bench/layer-functions.mjs).
    const own = ownCopy(value);
    answer = checkRequestOrigin(own) ?? NOT_AN_ORIGIN;
    requestOrigins.set(own, answer);
  }
  return answer === NOT_AN_ORIGIN ? undefined : answer;
}

function checkRequestOrigin(value: string): string | undefined {
  const shape = ORIGIN_SHAPE.exec(value);
  if (!shape || shape[3] !== '' || /[@*]/.test(shape[2]) || FORBIDDEN_CHARS.test(value)) return undefined;
  return originOf(value) === value ? value : undefined;
}

/** `Host`-header based origin of the server itself, for same-origin checks. */
export function serverOrigin(protocol: string, host: string | undefined): string | undefined {
  // Remembered for bounded values only: behind `trust proxy`, the protocol is whatever X-Forwarded-Proto says.
  if (!host || host.length > MAX_ORIGIN_LENGTH || protocol.length > MAX_SCHEME_LENGTH) return host ? originOf(`${protocol}://${host}`) : undefined;
  const key = `${protocol}://${host}`;
  let answer = serverOrigins.get(key);
  if (answer === undefined) {
    answer = originOf(key) ?? NOT_AN_ORIGIN;
    serverOrigins.set(key, answer);
  }
  return answer === NOT_AN_ORIGIN ? undefined : answer;
}

/**
 * False when an origin cannot be the server's own for this Host header, whatever the server's protocol: their host
 * names differ, or their ports do (a scheme's default port counts as given: `https://id.example` and
 * `id.example:443`). So an app on `localhost:3000` called from `http://localhost:4200` is cross-origin here too.
 * A cheap test that needs no protocol (only the framework knows it, honouring `trust proxy`): true means "compare
 * with serverOrigin", and a Host spelled unusually only costs that comparison.
 * Runs twice per identity request: its first steps are the cheapest that tell the usual cross-origin request apart
 * (counted under callgrind: a search for `://` cost about three times a search for `:`, which cost more than the
 * scheme's length told by a character and the first letters' test).
 */
export function mayBeSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  // The authority starts after the scheme's `://`, and a scheme has no `:`. The server's own origin is usually `http`
  // or `https`, told by a character or two (a search cost more than the rest of this test); any other scheme is
  // searched for. Not `x://h:1`, whose fifth character is the port's colon.
  const start = origin.charCodeAt(4) === COLON ? 7 : origin.charCodeAt(5) === COLON && origin.charCodeAt(1) !== COLON ? 8 : origin.indexOf(':') + 3;
  // Names whose first characters differ, case aside, differ (the same folding on both sides keeps equal ones equal).
  if ((origin.charCodeAt(start) | CASE_BIT) !== (host.charCodeAt(0) | CASE_BIT)) return false;
  const length = hostNameLength(origin, start);
  // Names of different lengths differ: told apart without lower-casing.
  if (length !== hostNameLength(host, 0)) return false;
  if (origin.slice(start, start + length).toLowerCase() !== host.slice(0, length).toLowerCase()) return false;
  return portsMayMatch(origin.slice(0, start - 3), origin.slice(start + length), host.slice(length));
}

/**
 * Whether serverOrigin could give an origin with this scheme and `:port` part ('' or ':' for none) for a Host with
 * this `:port` part: as the URL standard serializes a port, a number without leading zeros, dropped when it is the
 * scheme's default. The server's protocol must then be the origin's scheme, whose default port is the one that counts.
 */
function portsMayMatch(scheme: string, originPort: string, hostPort: string): boolean {
  const given = hostPort.length > 1 ? Number(hostPort.slice(1)) : undefined;
  if (originPort.length > 1) return given === Number(originPort.slice(1));
  return given === undefined || given === DEFAULT_PORTS.get(scheme.toLowerCase());
}

/** The default ports of the URL standard's special schemes; other schemes have none (a port given is kept). */
const DEFAULT_PORTS: ReadonlyMap<string, number> = new Map([['http', 80], ['https', 443], ['ws', 80], ['wss', 443], ['ftp', 21]]);

/** The length of the host name in the authority `host[:port]` that starts at `from`: without a trailing `:digits`. */
function hostNameLength(authority: string, from: number): number {
  let end = authority.length;
  while (end > from && isDigit(authority.charCodeAt(end - 1))) end--;
  return (end > from && authority.charCodeAt(end - 1) === COLON ? end - 1 : authority.length) - from;
}

/** The bit that tells an ASCII letter's lower case from its upper case. */
const CASE_BIT = 0x20;
const COLON = 58;
const isDigit = (code: number) => code >= 48 && code <= 57;
