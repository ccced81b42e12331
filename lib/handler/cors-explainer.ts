import { type IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { CorsPolicy } from '../core/cors-policy.js';
import { CorsHeaders, CorsService, isPreflightRequest } from '../core/cors.service.js';
import { type CorsDenialReason, DENIAL_TEXT } from '../core/denial-reason.js';
import { MAX_ORIGIN_LENGTH } from '../core/origin.js';
import { CorsHandler, type DecisionTrace } from './cors-handler.js';
import { CorsRouteTable } from './cors-route-table.js';
import { policyLabel, type RouteTarget } from './route-target.js';

/** A request to explain: nothing is sent, nothing reaches a route handler. */
export interface CorsExplainRequest {
  /** The request's method (`OPTIONS` with Access-Control-Request-Method for a preflight). */
  method: string;
  /** The request target as sent (path and query), e.g. `/connect/token?x=1`. */
  path: string;
  /** The request's headers (Origin, Access-Control-Request-*, Host …); names in any case. */
  headers?: Record<string, string | undefined>;
  /** The request arrives over HTTPS (as Express's `req.protocol` would say): matters for the server's own origin. */
  secure?: boolean;
}

/** Where a request's policy comes from: the identity paths, the route's @EnableCors, or the global policy. */
export interface CorsPolicySource {
  /** `identity`, `route` (its own @EnableCors), `global` (a route without CORS metadata), `unrouted` (a path no route serves). */
  kind: RouteTarget['kind'];
  /** The policy's name; undefined: the default policy. */
  policyName?: string;
  /** The controller and handler serving the request, `Controller.method` (route and global). */
  handlerName?: string;
}

/** A policy, as data. */
export interface CorsPolicySummary {
  /** Listed origins and patterns, `['*']` for any; empty with a custom predicate alone. */
  origins: string[];
  /** True when a predicate (isOriginAllowed) decides beyond the list. */
  customOriginCheck: boolean;
  methods: string[];
  headers: string[];
  exposedHeaders: string[];
  credentials: boolean;
  maxAge?: number;
}

/** Why a request that got no allow headers got none: a denial reason, or one that says where the origin failed. */
export type CorsExplanationReason = CorsDenialReason;

export interface CorsExplanation {
  /** OPTIONS with Access-Control-Request-Method: decided for the route of the requested method. */
  preflight: boolean;
  /** Where the policy comes from; null: no CORS on this route (@DisableCors, or no policy applies). */
  source: CorsPolicySource | null;
  /**
   * `allowed`: the allow headers are written; `denied`: only Vary; `not-cors`: no Origin header (only `Vary: Origin`);
   * `no-cors-route`: the library leaves the request alone.
   */
  decision: 'allowed' | 'denied' | 'not-cors' | 'no-cors-route';
  /** Why it was denied. */
  reason?: CorsExplanationReason;
  /** The reason in words, naming the policy and (for an invalid Origin) what is wrong with it. */
  reasonText?: string;
  /** The failing policy's error (reason `policy-failed`). */
  error?: string;
  /** The failing policy did not answer within policyTimeout (reason `policy-failed`). */
  timedOut?: boolean;
  /** The policy the provider gave (an identity path's is built per allowed origin). */
  policy?: CorsPolicySummary;
  /** 204: the library answers this preflight itself, before routing. */
  status?: 204;
  /** Exactly the headers the library writes, by the names it writes them under (Vary: the library's own list). */
  headers: Record<string, string>;
}

/**
 * Explains what the library would do with a request, without sending anything: for tests, health pages
 * and support. It takes the request as the Express edge does (preflight = OPTIONS + Access-Control-Request-Method,
 * looked up by the requested method), then asks the same route table and the same CorsHandler.decide that real
 * requests go through, and writes the result with the same CorsService: its answer cannot drift from theirs (RULES 22).
 * A policy service or predicate is asked as for a real request (a counting or caching service counts it too).
 */
export class CorsExplainer {
  constructor(
    private readonly handler: CorsHandler,
    private readonly cors: CorsService,
    private readonly routes: CorsRouteTable,
  ) {}

  async explain(request: CorsExplainRequest): Promise<CorsExplanation> {
    const req = requestLike(request);
    const preflight = isPreflightRequest(req);
    const path = this.routes.pathOf(req);
    const target = this.routes.resolve(preflight ? String(req.headers[CorsHeaders.requestMethod]) : req.method!, path);
    if (target === null) return { preflight, source: null, decision: 'no-cors-route', headers: {} };
    const source = sourceOf(target);
    const origin = req.headers.origin;
    // Not a CORS request, but a CORS route's response depends on the Origin header's presence (RULES 4, 8).
    if (origin === undefined) return { preflight, source, decision: 'not-cors', headers: { [CorsHeaders.vary]: 'Origin' } };

    const trace: DecisionTrace = {};
    // A target with no path resolved to no CORS above, so the path is known here.
    const result = await this.handler.decide(req, origin, path!, target, preflight, trace);
    // A real (unsent) response: the hot code that writes headers sees no new kind of object.
    const res = new ServerResponse(req);
    this.cors.applyResult(result, res);
    const explanation: CorsExplanation = { preflight, source, decision: result.isOriginAllowed ? 'allowed' : 'denied', headers: written(res) };
    if (preflight) explanation.status = 204;
    if (trace.policy) explanation.policy = summary(trace.policy);
    if (!result.isOriginAllowed) {
      const reason = trace.reason ?? 'origin-not-allowed';
      explanation.reason = reason;
      explanation.reasonText = reasonText(reason, target, origin, trace);
      if (trace.error !== undefined) explanation.error = trace.error;
      if (reason === 'policy-failed') explanation.timedOut = trace.timedOut === true;
    }
    return explanation;
  }
}

/**
 * The request as Node hands it over (lower-case header names), on an unconnected socket that says whether it
 * is TLS, as a bare request's does. A real IncomingMessage, not a look-alike: the hot code it goes through
 * stays fast only while it sees the kinds of objects real requests are (DEVELOPERS.md, What the counts taught).
 */
function requestLike(request: CorsExplainRequest): IncomingMessage {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
  const socket = new Socket();
  if (request.secure) (socket as Socket & { encrypted?: boolean }).encrypted = true;
  const req = new IncomingMessage(socket);
  req.method = request.method.toUpperCase();
  req.url = request.path;
  req.headers = headers;
  return req;
}

/** The library's header names, by their lower-case form (as Node keeps them). */
const HEADER_NAMES = new Map(Object.values(CorsHeaders).map((name) => [name.toLowerCase(), name]));

/** The headers written to `res`, under the names the library writes them with. */
function written(res: ServerResponse): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of res.getHeaderNames()) {
    const value = res.getHeader(name)!;
    headers[HEADER_NAMES.get(name) ?? name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return headers;
}

function sourceOf(target: RouteTarget): CorsPolicySource {
  const source: CorsPolicySource = { kind: target.kind };
  if (target.policyName !== undefined) source.policyName = target.policyName;
  if ('handlerName' in target) source.handlerName = target.handlerName;
  return source;
}

function summary(policy: CorsPolicy): CorsPolicySummary {
  const result: CorsPolicySummary = {
    origins: [...policy.origins],
    customOriginCheck: !policy.isDefaultIsOriginAllowed,
    methods: [...policy.methods],
    headers: [...policy.headers],
    exposedHeaders: [...policy.exposedHeaders],
    credentials: policy.supportsCredentials,
  };
  if (policy.preflightMaxAge !== undefined) result.maxAge = policy.preflightMaxAge;
  return result;
}

function reasonText(reason: CorsDenialReason, target: RouteTarget, origin: string, trace: DecisionTrace): string {
  const where = target.kind === 'identity' ? `the identity policy '${target.policyName}'` : policyLabel(target);
  switch (reason) {
    case 'origin-invalid':
      return `${DENIAL_TEXT[reason]}: ${howInvalid(origin)}`;
    case 'origin-not-allowed':
      return `${where} does not allow the origin`;
    case 'no-policy':
      return `no CORS policy applies: the provider has no ${where}`;
    case 'policy-failed':
      return `${where} ${trace.timedOut ? 'timed out' : 'failed'}: ${trace.error ?? 'unknown error'}`;
    default:
      return DENIAL_TEXT[reason];
  }
}

/** What is wrong with an Origin header that does not parse. */
function howInvalid(origin: string): string {
  if (origin === '') return 'it is empty';
  if (origin.length > MAX_ORIGIN_LENGTH) return `it is ${origin.length} characters long, more than the ${MAX_ORIGIN_LENGTH} allowed`;
  return `${JSON.stringify(origin.slice(0, 100))} is not scheme://host[:port] in its serialized form (lower case, no path, no default port)`;
}
