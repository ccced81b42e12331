/**
 * CorsService: evaluates a request against a policy (the CorsResult) and writes the headers a result calls for,
 * after ASP.NET Core's CorsService. Over 200 lines because evaluation, the Vary arithmetic and the writing of
 * headers (including putting them back as the response starts) share one result shape and one set of header
 * names; split, each half would have to know the other's rules.
 */
import { type IncomingHttpHeaders, METHODS } from 'node:http';
import { ANY, TOKEN, type CorsPolicy } from './cors-policy.js';
import { Memo } from './memo.js';
import { parseRequestOrigin } from './origin.js';
import { type FlatHeaders, PreflightAnswers } from './preflight-answers.js';

export const CorsHeaders = {
  origin: 'origin',
  requestMethod: 'access-control-request-method',
  requestHeaders: 'access-control-request-headers',
  allowOrigin: 'Access-Control-Allow-Origin',
  allowCredentials: 'Access-Control-Allow-Credentials',
  allowMethods: 'Access-Control-Allow-Methods',
  allowHeaders: 'Access-Control-Allow-Headers',
  exposeHeaders: 'Access-Control-Expose-Headers',
  maxAge: 'Access-Control-Max-Age',
  vary: 'Vary',
} as const;

/** The parts of a request CORS looks at; a Node IncomingMessage satisfies it. */
export interface CorsRequest {
  method?: string;
  headers: IncomingHttpHeaders;
}

/** The parts of a response CORS writes; a Node ServerResponse satisfies it. */
export interface CorsResponse {
  getHeader(name: string): number | string | string[] | undefined;
  setHeader(name: string, value: number | string | readonly string[]): unknown;
}

/** What evaluating a request against a policy decided; applyResult turns it into headers. */
export interface CorsResult {
  isPreflightRequest: boolean;
  isOriginAllowed: boolean;
  /** The request's origin, or `*` for an any-origin policy without credentials. */
  allowedOrigin?: string;
  supportsCredentials: boolean;
  allowedMethods: readonly string[];
  allowedHeaders: readonly string[];
  allowedExposedHeaders: readonly string[];
  /** `Access-Control-Expose-Headers` as written on an allowed actual response (joined once), else undefined. */
  exposedHeadersValue?: string;
  /** `Access-Control-Allow-Methods` / `-Headers` as written when the policy's own lists are (joined once by the policy); else joined when written. */
  allowedMethodsValue?: string;
  allowedHeadersValue?: string;
  preflightMaxAge?: number;
  varyByOrigin: boolean;
  varyByRequestMethod: boolean;
  varyByRequestHeaders: boolean;
}

/** An empty list shared by results: a result's lists are read, never changed, so none is copied per request. */
const NONE: readonly string[] = Object.freeze([]);

/** The Vary list of an actual request that depends on its origin. */
export const VARY_ORIGIN: readonly string[] = Object.freeze(['Origin']);
/**
 * The methods Node's parser accepts, all tokens: a preflight's Access-Control-Request-Method is nearly always one, and
 * a Set answers it for less than the token pattern (bench/layer-instructions.sh); any other value is matched by TOKEN.
 * The route table remembers answers for these methods only.
 */
export const KNOWN_METHODS: ReadonlySet<string> = new Set(METHODS);
/** Bound on the reflected Access-Control-Request-Headers list. */
const MAX_REQUEST_HEADERS_LENGTH = 2048;

/** A request header's value when it is one string (Node joins repeated ones); undefined otherwise. */
function stringValue(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** True for `OPTIONS` with an `Access-Control-Request-Method` header (RULES 5). */
export function isPreflightRequest(request: CorsRequest): boolean {
  return request.method === 'OPTIONS' && request.headers[CorsHeaders.requestMethod] !== undefined;
}

/** A well-formed Access-Control-Request-Headers value: its names, and the list an any-header policy answers, joined once. */
interface RequestHeaderList {
  readonly names: readonly string[];
  readonly value: string;
}
const NO_REQUEST_HEADERS: RequestHeaderList = { names: NONE, value: '' };
const MALFORMED = 0;
/**
 * Parsed values, as browsers send a few per app: parsing each preflight's again cost more than the rest of the
 * preflight's evaluation (bench/layer-instructions.sh). Bounded: attackers choose these values.
 */
const requestHeaderLists = new Memo<RequestHeaderList | typeof MALFORMED>(1024);

/** The comma-separated token list of Access-Control-Request-Headers, or undefined if malformed. */
export function parseRequestHeaders(value: string | undefined): RequestHeaderList | undefined {
  if (value === undefined) return NO_REQUEST_HEADERS;
  if (value.length > MAX_REQUEST_HEADERS_LENGTH) return undefined;
  let list = requestHeaderLists.get(value);
  if (list === undefined) {
    const names = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
    list = names.every((name) => TOKEN.test(name)) ? { names: Object.freeze(names), value: names.join(',') } : MALFORMED;
    requestHeaderLists.set(value, list);
  }
  return list === MALFORMED ? undefined : list;
}

/**
 * An any-origin policy without credentials answers `*` to every Origin value (a serialized origin,
 * `null`, or one that does not parse): browsers accept `*` from any origin without credentials, and an
 * answer that does not depend on the origin needs no `Vary: Origin` (RULES 20).
 */
export function answersAnyOrigin(policy: CorsPolicy): boolean {
  return policy.allowAnyOrigin && !policy.supportsCredentials;
}

/** An any-origin policy without credentials answers `*` whatever the origin, so it need not vary. */
export function policyVariesByOrigin(policy: CorsPolicy): boolean {
  return !answersAnyOrigin(policy);
}

/**
 * A preflight denied for a malformed Access-Control-Request-Method or -Headers: the denial depends on
 * those headers, even where the allowed answer would not, so it varies on them as on Origin (RULES 8).
 */
function malformedPreflightResult(): CorsResult {
  const result = deniedResult(true);
  result.varyByRequestMethod = true;
  result.varyByRequestHeaders = true;
  return result;
}

/** The result for a request that gets no CORS headers: only `Vary: Origin`. */
export function deniedResult(isPreflight: boolean): CorsResult {
  return {
    isPreflightRequest: isPreflight,
    isOriginAllowed: false,
    supportsCredentials: false,
    allowedMethods: NONE,
    allowedHeaders: NONE,
    allowedExposedHeaders: NONE,
    exposedHeadersValue: undefined,
    allowedMethodsValue: undefined,
    allowedHeadersValue: undefined,
    varyByOrigin: true,
    varyByRequestMethod: false,
    varyByRequestHeaders: false,
  };
}

/**
 * Evaluates a request against a policy and applies the result to a response, after ASP.NET Core's
 * CorsService, with the stricter rules of design/RULES.md: invalid origins are rejected before any
 * predicate runs, `Vary: Origin` is sent on denials too, and reflected values are validated tokens.
 */
export class CorsService {
  /** The last allowed preflights' results and headers (see PreflightAnswers). */
  private readonly preflights = new PreflightAnswers();
  private readonly writeResult = (result: CorsResult, response: CorsResponse): void => this.applyResult(result, response);

  /**
   * The result at once when the policy decides synchronously (listed origins and patterns, or a sync
   * predicate), in a Promise when its predicate is asynchronous.
   */
  evaluatePolicy(request: CorsRequest, policy: CorsPolicy): CorsResult | Promise<CorsResult> {
    const preflight = isPreflightRequest(request);
    const value = request.headers[CorsHeaders.origin];
    const origin = parseRequestOrigin(value);
    if (origin !== undefined) return this.evaluateOrigin(request, policy, origin, preflight);
    // `*` for any Origin header the any-origin policy is asked about; no header: not a CORS request (RULES 4).
    if (typeof value === 'string' && answersAnyOrigin(policy)) return this.evaluateOrigin(request, policy, value, preflight);
    return deniedResult(preflight);
  }

  /**
   * evaluatePolicy, for a caller that has already parsed the request's origin and knows whether it is a
   * preflight. An any-origin policy without credentials allows whatever `origin` is (it answers `*`).
   * `shared`: the caller only reads the result (the library's handler), so an allowed preflight's may be the frozen
   * result of an earlier identical preflight (see PreflightAnswers); otherwise every result is the caller's own.
   */
  evaluateOrigin(request: CorsRequest, policy: CorsPolicy, origin: string, preflight: boolean, shared = false): CorsResult | Promise<CorsResult> {
    if (!preflight) {
      const allowed = isAllowed(policy, origin);
      if (typeof allowed === 'boolean') return allowedResult(policy, origin, allowed, false, undefined, NO_REQUEST_HEADERS);
      return Promise.resolve(allowed).then((answer) => allowedResult(policy, origin, answer, false, undefined, NO_REQUEST_HEADERS));
    }
    // Each header read at a site of its own: one function reading both by a name passed in was a megamorphic load
    // (bench/layer-functions.mjs).
    const headers = request.headers;
    const requestMethod = stringValue(headers[CorsHeaders.requestMethod]);
    const requestHeadersValue = stringValue(headers[CorsHeaders.requestHeaders]);
    const kept = !shared || requestMethod === undefined ? undefined : this.preflights.find(policy, origin, requestMethod, requestHeadersValue);
    if (kept !== undefined) {
      // Valid when it was kept; allowed only if the policy still says so.
      const allowed = isAllowed(policy, origin);
      if (typeof allowed === 'boolean') return allowed ? kept : deniedResult(true);
      return Promise.resolve(allowed).then((answer) => (answer ? kept : deniedResult(true)));
    }
    const requestHeaders = parseRequestHeaders(requestHeadersValue);
    // Malformed preflight input is never reflected into a response header.
    if (requestMethod === undefined || !(KNOWN_METHODS.has(requestMethod) || TOKEN.test(requestMethod)) || requestHeaders === undefined) return malformedPreflightResult();
    const allowed = isAllowed(policy, origin);
    const answer = (isOriginAllowed: boolean): CorsResult => {
      if (!isOriginAllowed) return deniedResult(true);
      const result = allowedResult(policy, origin, true, true, requestMethod, requestHeaders);
      return shared ? this.preflights.keep(policy, origin, requestMethod, requestHeadersValue, result) : result;
    };
    if (typeof allowed === 'boolean') return answer(allowed);
    return Promise.resolve(allowed).then(answer);
  }

  /**
   * A preflight's answer as one flat header list for writeHead: Vary (merged with the response's own), then the
   * access-control headers of an allowed one; the caller's own list.
   */
  preflightHeaders(result: CorsResult, response: CorsResponse): FlatHeaders {
    // A subclass's (or a replaced) applyResult may write something else, or differently each time: built each time.
    const reusable = this.applyResult === OWN_APPLY_RESULT && this.applyAccessControl === OWN_APPLY_ACCESS_CONTROL;
    return this.preflights.headersOf(result, response, this.writeResult, reusable);
  }

  /** Writes the headers a result calls for (RULES 6); a denial writes only `Vary` (RULES 7, 8). */
  applyResult(result: CorsResult, response: CorsResponse): void {
    // The usual case, an actual request varying on Origin alone, without building the list.
    appendVary(response, result.varyByOrigin && !result.varyByRequestMethod && !result.varyByRequestHeaders ? VARY_ORIGIN : varyFields(result));
    this.applyAccessControl(result, response);
  }

  /** applyResult without `Vary`, for a caller that appends it itself (later, after the app's own Vary). */
  applyAccessControl(result: CorsResult, response: CorsResponse): void {
    if (!result.isOriginAllowed || result.allowedOrigin === undefined) return;

    response.setHeader(CorsHeaders.allowOrigin, result.allowedOrigin);
    if (result.supportsCredentials) response.setHeader(CorsHeaders.allowCredentials, 'true');
    if (result.isPreflightRequest) {
      if (result.allowedMethods.length > 0) response.setHeader(CorsHeaders.allowMethods, result.allowedMethodsValue ?? result.allowedMethods.join(','));
      if (result.allowedHeaders.length > 0) response.setHeader(CorsHeaders.allowHeaders, result.allowedHeadersValue ?? result.allowedHeaders.join(','));
      if (result.preflightMaxAge !== undefined) response.setHeader(CorsHeaders.maxAge, String(result.preflightMaxAge));
    } else if (result.exposedHeadersValue !== undefined) {
      response.setHeader(CorsHeaders.exposeHeaders, result.exposedHeadersValue);
    }
  }
}

/** CorsService's own writers, read once: read from its prototype per preflight they cost about 0.1 k instructions. */
const { applyResult: OWN_APPLY_RESULT, applyAccessControl: OWN_APPLY_ACCESS_CONTROL } = CorsService.prototype;

/**
 * Puts back the access-control headers of an allowed actual response that the app removed or replaced
 * since applyAccessControl (an exception filter that clears every header, `res.set` over them), as
 * ASP.NET Core writes CORS headers as the response starts. The app may add exposed headers: its list is
 * kept, with the policy's added. Called as the headers are written; the usual case (headers untouched)
 * compares the values set earlier by reference and writes nothing.
 */
export function reapplyAccessControl(result: CorsResult, response: CorsResponse): void {
  const origin = result.allowedOrigin;
  if (!result.isOriginAllowed || origin === undefined) return;
  // Read by lower-case name: Node lower-cases the name it is given, which then costs no copy.
  if (response.getHeader('access-control-allow-origin') !== origin) response.setHeader(CorsHeaders.allowOrigin, origin);
  if (result.supportsCredentials && response.getHeader('access-control-allow-credentials') !== 'true') response.setHeader(CorsHeaders.allowCredentials, 'true');
  const exposed = result.exposedHeadersValue;
  if (exposed === undefined) return;
  const current = response.getHeader('access-control-expose-headers');
  if (current === exposed) return;
  const merged = current === undefined ? exposed : varyWith(current, result.allowedExposedHeaders);
  if (merged !== undefined) response.setHeader(CorsHeaders.exposeHeaders, merged);
}

/** The policy refuses `null` and invalid values; an any-origin policy still answers them `*` (checked only then). */
function isAllowed(policy: CorsPolicy, origin: string): boolean | Promise<boolean> {
  return policy.isOriginAllowed(origin) || answersAnyOrigin(policy);
}

function allowedResult(
  policy: CorsPolicy,
  origin: string,
  allowed: boolean,
  preflight: boolean,
  requestMethod: string | undefined,
  requestHeaders: RequestHeaderList,
): CorsResult {
  if (!allowed) return deniedResult(preflight);
  const anyOrigin = policy.allowAnyOrigin;
  const result: CorsResult = {
    isPreflightRequest: preflight,
    isOriginAllowed: true,
    allowedOrigin: anyOrigin && !policy.supportsCredentials ? ANY : origin,
    supportsCredentials: policy.supportsCredentials,
    allowedMethods: NONE,
    allowedHeaders: NONE,
    allowedExposedHeaders: policy.exposedHeaders,
    exposedHeadersValue: preflight ? undefined : policy.exposedHeadersValue,
    // In the literal, so every result has one shape (V8).
    allowedMethodsValue: undefined,
    allowedHeadersValue: undefined,
    preflightMaxAge: policy.preflightMaxAge,
    varyByOrigin: policyVariesByOrigin(policy),
    varyByRequestMethod: false,
    varyByRequestHeaders: false,
  };
  if (preflight) {
    if (policy.allowAnyMethod) {
      result.allowedMethods = [requestMethod!];
      result.allowedMethodsValue = requestMethod;
      result.varyByRequestMethod = true;
    } else {
      result.allowedMethods = policy.methods;
      result.allowedMethodsValue = policy.methodsValue;
    }
    if (policy.allowAnyHeader) {
      result.allowedHeaders = requestHeaders.names;
      result.allowedHeadersValue = requestHeaders.value;
      result.varyByRequestHeaders = true;
    } else {
      result.allowedHeaders = policy.headers;
      result.allowedHeadersValue = policy.headersValue;
    }
  }
  return result;
}

/** Every Vary list a result can call for, by varyFields's index; lists and their joined values made once. */
const VARY_LISTS: ReadonlyArray<readonly string[]> = Array.from({ length: 8 }, (_, bits) =>
  Object.freeze(
    [bits & 1 ? 'Origin' : '', bits & 2 ? 'Access-Control-Request-Method' : '', bits & 4 ? 'Access-Control-Request-Headers' : ''].filter((field) => field !== ''),
  ),
);
const JOINED_VARY = new Map<readonly string[], string>(VARY_LISTS.map((fields) => [fields, fields.join(', ')]));

/** The request headers a result depends on (RULES 8). */
export function varyFields(result: CorsResult): readonly string[] {
  return VARY_LISTS[(result.varyByOrigin ? 1 : 0) | (result.varyByRequestMethod ? 2 : 0) | (result.varyByRequestHeaders ? 4 : 0)]!;
}

/** Adds fields to `Vary`, keeping whatever is there (RULES 8); `Vary: *` already covers everything. */
export function appendVary(response: CorsResponse, fields: readonly string[]): void {
  // Read by lower-case name: Node lower-cases the name it is given, which then costs no copy.
  const merged = varyWith(response.getHeader('vary'), fields);
  if (merged !== undefined) response.setHeader(CorsHeaders.vary, merged);
}

/** The `Vary` value `current` plus `fields`, or undefined when `current` already covers them. */
export function varyWith(current: number | string | readonly string[] | undefined, fields: readonly string[]): string | undefined {
  if (fields.length === 0) return undefined;
  // The usual case: nothing there yet.
  if (current === undefined || current === '') return fields.length === 1 ? fields[0] : (JOINED_VARY.get(fields) ?? fields.join(', '));
  const existing = (Array.isArray(current) ? current.join(',') : String(current))
    .split(',')
    .map((field) => field.trim())
    .filter((field) => field !== '');
  if (existing.includes('*')) return undefined;
  const lower = new Set(existing.map((field) => field.toLowerCase()));
  const added = fields.filter((field) => !lower.has(field.toLowerCase()));
  if (added.length === 0) return undefined;
  return [...existing, ...added].join(', ');
}
