/**
 * What every platform's edge does with Node's own request and response, whichever framework wraps them:
 * resolve the route target, have the CorsHandler decide, write the result, answer a preflight with 204,
 * and mark an actual request's response so that its CORS headers are put back as its headers are written.
 * A platform folder says where a response's mark lives and how it gets the writeHead hook.
 * Over 200 lines because the writeHead hook and the headers it corrects (RULES 8, 19) belong with the marks they read.
 */
import type { IncomingMessage, OutgoingHttpHeader, ServerResponse } from 'node:http';
import { type CorsResult, CorsService, isPreflightRequest, appendVary, reapplyAccessControl, varyWith, VARY_ORIGIN } from '../core/cors.service.js';
import { isPromiseLike, type MaybePromise } from '../core/maybe-promise.js';
import { mayBeSameOrigin } from '../core/origin.js';
import type { CorsHandler } from '../handler/cors-handler.js';
import type { CorsRouteTable } from '../handler/cors-route-table.js';
import type { RouteTarget } from '../handler/route-target.js';

/** A response's CORS state, kept where the platform's edge says (see NodeCorsEdge.holderOf). */
export const STATE = Symbol('nest-identity-cors');
/** Set on a response (or a response prototype) once its writeHead keeps Vary. */
export const HOOKED = Symbol('nest-identity-cors:vary-hook');
/** Set on a framework's app instance once an edge serves it. */
const MOUNTED = Symbol('nest-identity-cors:mounted');
/** An edge that runs ahead of the framework (Express's server listener) has taken the request on: the framework's own hook leaves it alone. */
export const TAKEN = 1;
/** The response varies on Origin: `Vary: Origin` is appended as its headers are written (RULES 8). */
export const VARY_ON_ORIGIN = 2;

/**
 * A response's mark: TAKEN, VARY_ON_ORIGIN, or the allowed decision itself, whose access-control headers
 * are put back as the headers are written (and `Vary: Origin` appended if it varies), whatever the app
 * did to them before (RULES 19).
 */
export type Mark = typeof TAKEN | typeof VARY_ON_ORIGIN | CorsResult;
export type MarkHolder = { [STATE]?: Mark };
export type NodeResponse = ServerResponse & MarkHolder & { [HOOKED]?: true };
type WriteHead = ServerResponse['writeHead'];

/**
 * The framework's own object for a request's response, when it has one (Fastify's reply): told, just before a
 * preflight is answered and ended on Node's response, that the framework must not answer it too; and where the
 * platform's edge may write an actual response's headers (see decided).
 */
export interface FrameworkReply {
  hijack(): void;
}

export abstract class NodeCorsEdge {
  constructor(
    protected readonly handler: CorsHandler,
    protected readonly cors: CorsService,
    protected readonly routes: CorsRouteTable,
  ) {}

  /** Claims the framework's app instance for this edge: a second IdentityCorsModule in one app is a startup error (each would decorate the other's provider). */
  protected claim(instance: object | undefined | null): void {
    if (instance === undefined || instance === null) return;
    const claimed = instance as { [MOUNTED]?: NodeCorsEdge };
    if (claimed[MOUNTED] !== undefined && claimed[MOUNTED] !== this) {
      throw new Error(
        'IdentityCorsModule is imported more than once in this app (IdentityCorsModule.forRoot or forRootAsync in two modules). Import it once, in AppModule: its policies and services serve every module.',
      );
    }
    claimed[MOUNTED] = this;
  }

  /** Where a response's mark lives. */
  protected abstract holderOf(res: NodeResponse): MarkHolder;

  /** True when the response's writeHead is hooked already (through its prototype), given its holder before the new mark. */
  protected abstract inheritsHook(res: NodeResponse, holder: MarkHolder): boolean;

  /**
   * The request as a framework hook sees it: its route target, then the decision. `next` lets the request go
   * on; `reply`, when given, is told as a preflight is answered (before the response ends). An object
   * the framework made already rather than a callback, so no request pays a closure for the rare preflight
   * (too small to show in bench/layer-instructions.sh, whose counts move by about ±1 k from run to run).
   */
  protected handleRequest(req: IncomingMessage, res: NodeResponse, next: (error?: unknown) => void, reply?: FrameworkReply): void {
    const preflight = isPreflightRequest(req);
    const target = this.routes.resolve(preflight ? String(req.headers['access-control-request-method']) : (req.method ?? 'GET'), this.routes.pathOf(req));
    if (target === null) return next();
    this.run(req, res, target, preflight, next, reply);
  }

  protected run(req: IncomingMessage, res: NodeResponse, target: RouteTarget, preflight: boolean, next: (error?: unknown) => void, reply?: FrameworkReply): void {
    let answered: MaybePromise<boolean>;
    try {
      answered = this.handle(req, res, target, preflight, reply);
    } catch (error) {
      this.handlingFailed('decision', req, error);
      return next();
    }
    if (!isPromiseLike(answered)) {
      if (!answered) next();
      return;
    }
    answered.then(
      (done) => done || next(),
      (error: unknown) => {
        this.handlingFailed('decision', req, error);
        next();
      },
    );
  }

  /** True (now or later) when it has answered the request (a preflight). */
  private handle(req: IncomingMessage, res: NodeResponse, target: RouteTarget, preflight: boolean, reply: FrameworkReply | undefined): MaybePromise<boolean> {
    // Read once: req.headers is a getter that Express's request prototype puts out of reach of V8's caches.
    const origin = req.headers.origin;
    if (origin === undefined) {
      // Not a CORS request, but the response of a CORS route depends on the origin's presence (RULES 4, 8).
      this.decided(res, VARY_ON_ORIGIN, reply);
      return false;
    }
    // The path is only the example of a denial's log line: the raw target, quoted and bounded there, costs no parse.
    const result = this.handler.decide(req, origin, String(req.url), target, preflight);
    // Something else may have answered while the policy was decided (Fastify's handlerTimeout sends a 503): the
    // request is over, nothing is left to write (setHeader would throw) and nothing to pass on.
    if (isPromiseLike(result)) return result.then((decided) => res.headersSent || this.respond(decided, res, preflight, reply));
    return this.respond(result, res, preflight, reply);
  }

  private respond(result: CorsResult, res: NodeResponse, preflight: boolean, reply: FrameworkReply | undefined): boolean {
    if (!preflight) {
      // An actual request varies on Origin or on nothing (Access-Control-Request-* vary preflights only).
      if (result.isOriginAllowed) this.decided(res, result, reply);
      else if (result.varyByOrigin) this.decided(res, VARY_ON_ORIGIN, reply);
      return false;
    }
    // Answered and ended right here: nothing can replace Vary afterwards, so Vary is written now. Given to writeHead
    // at once: each setHeader on Node's response costs about as much as the rest of the preflight's headers together.
    // No Content-Length: a 204 has no body, and RFC 9110 (8.6) forbids the header on it.
    const headers = this.cors.preflightHeaders(result, res);
    reply?.hijack();
    res.writeHead(204, headers as OutgoingHttpHeader[]);
    res.end();
    return true;
  }

  /**
   * An actual request's decision (an allowed result, or VARY_ON_ORIGIN): its access-control headers written now on
   * Node's response, so that the app sees them, and the response marked, so that they are put back (and
   * `Vary: Origin` appended) as its headers are written. A platform whose framework keeps headers of its own
   * (Fastify's reply) writes them there instead.
   */
  protected decided(res: NodeResponse, mark: typeof VARY_ON_ORIGIN | CorsResult, _reply: FrameworkReply | undefined): void {
    if (mark !== VARY_ON_ORIGIN) this.cors.applyAccessControl(mark, res);
    this.mark(res, mark);
  }

  /**
   * Marks the response for its writeHead hook: `Vary: Origin` appended to whatever Vary the app has set by
   * then (setHeader replaces), and an allowed decision's access-control headers put back if the app
   * removed or replaced them. One read and one write of Vary per response, one read per CORS header.
   */
  protected mark(res: NodeResponse, mark: typeof VARY_ON_ORIGIN | CorsResult): void {
    const holder = this.holderOf(res);
    const hooked = this.inheritsHook(res, holder);
    holder[STATE] = mark;
    if (!hooked) this.hookAlone(res);
  }

  /** Hooks the writeHead of a response that does not inherit the hook, once. */
  protected hookAlone(res: NodeResponse): void {
    if (res[HOOKED] === true) return;
    hookWriteHead(res, (response) => this.holderOf(response));
    res[HOOKED] = true;
  }

  /** The library's own failure (a bug, or a broken collaborator): rate-limited per stage, as attackers may repeat it. */
  protected handlingFailed(stage: 'route lookup' | 'decision', req: IncomingMessage, error: unknown): void {
    this.handler.logs.limited(
      'error',
      `handling-failed ${stage}`,
      () => `CORS handling failed for ${String(req.method).slice(0, 20)} ${String(this.routes.pathOf(req) ?? req.url).slice(0, 200)}; no CORS headers sent: ${error instanceof Error ? error.stack : String(error)}`,
    );
  }
}

/**
 * True for a request that an edge listening on the HTTP server, ahead of the framework, leaves to the framework's
 * hook or middleware although its route has CORS: a path no route serves (another listener may serve it), and a
 * possibly same-origin request to an identity path (its protocol is the framework's to read: `trust proxy`).
 */
export function leftToFramework(target: RouteTarget, origin: string | undefined, host: string | undefined): boolean {
  return target.kind === 'unrouted' || (target.kind === 'identity' && origin !== undefined && mayBeSameOrigin(origin, host));
}

/**
 * Wraps `target.writeHead` (a response, or a response prototype) so that a marked response gets its CORS
 * headers as its headers are written, as ASP.NET Core's Response.OnStarting does: `Vary: Origin` appended
 * (an app that sets its own `Vary` after the edge ran still ends up with both, RULES 8), and an allowed
 * decision's access-control headers put back if a filter removed or replaced them (RULES 19).
 * `holderOf` finds where the platform keeps the response's mark.
 */
export function hookWriteHead(target: { writeHead: WriteHead }, holderOf: (res: NodeResponse) => MarkHolder): void {
  target.writeHead = writeHeadKeepingDecision(target.writeHead, holderOf);
}

/** `writeHead`, wrapped as hookWriteHead says. */
export function writeHeadKeepingDecision(original: WriteHead, holderOf: (res: NodeResponse) => MarkHolder): WriteHead {
  const writeHead = original as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
  // Named parameters, passed on with the caller's arity: no arguments object per response.
  return function writeHeadVaryingOnOrigin(this: NodeResponse, statusCode: number, reason?: unknown, headers?: unknown) {
    const arity = arguments.length;
    // No headersSent check: once headers are out, setHeader below throws ERR_HTTP_HEADERS_SENT as Node's writeHead
    // would. Reading headersSent through Express's response prototype cost more than the rest of this hook.
    const mark = holderOf(this)[STATE];
    if (mark !== undefined && mark !== TAKEN) {
      // writeHead(status, [message,] headers): headers given here are set over the response's. As Node reads them: a
      // non-string message that is an object stands for the headers when no headers follow it.
      const given = typeof headers === 'object' && headers !== null ? 2 : typeof reason === 'object' && reason !== null ? 1 : 0;
      // The usual response on Fastify: its reply's headers, which carry the decision as the edge wrote it there.
      if (given === 0 || !carriesDecision((given === 2 ? headers : reason) as object, mark, this)) {
        const varies = mark === VARY_ON_ORIGIN || reapplied(mark, this);
        if (varies) appendVary(this, VARY_ORIGIN);
        // Headers given here get the decision too, an allowed one's even when it does not vary on Origin (any origin: `*`).
        if (given === 2) headers = headersWithDecision(headers as Record<string, unknown> | unknown[], mark, varies);
        else if (given === 1) reason = headersWithDecision(reason as Record<string, unknown> | unknown[], mark, varies);
      }
    }
    if (arity <= 1) return writeHead.call(this, statusCode);
    return arity === 2 ? writeHead.call(this, statusCode, reason) : writeHead.call(this, statusCode, reason, headers);
  } as WriteHead;
}

/**
 * True when writeHead's own headers carry the decision exactly as an edge writes it into a framework's headers
 * (Fastify's reply: lower-case names), and the response has no Vary or exposed headers of its own that Node
 * would let them replace: the headers are then passed on untouched, and Node's response keeps its fast path.
 */
function carriesDecision(headers: object, mark: typeof VARY_ON_ORIGIN | CorsResult, res: ServerResponse): boolean {
  if (Array.isArray(headers)) return false;
  const given = headers as Record<string, unknown>;
  const result = mark === VARY_ON_ORIGIN ? undefined : mark;
  if (result === undefined || result.varyByOrigin) {
    const vary = given.vary;
    if (vary !== VARY_ORIGIN[0] && (typeof vary !== 'string' || varyWith(vary, VARY_ORIGIN) !== undefined)) return false;
    if (res.getHeader('vary') !== undefined) return false;
  }
  if (result === undefined) return true;
  if (given['access-control-allow-origin'] !== result.allowedOrigin) return false;
  if (result.supportsCredentials && given['access-control-allow-credentials'] !== 'true') return false;
  const exposed = result.exposedHeadersValue;
  return exposed === undefined || (given['access-control-expose-headers'] === exposed && res.getHeader('access-control-expose-headers') === undefined);
}

/** Puts back an allowed decision's access-control headers; true when the response varies on Origin. */
function reapplied(result: CorsResult, res: ServerResponse): boolean {
  reapplyAccessControl(result, res);
  return result.varyByOrigin;
}

/**
 * writeHead's own headers, which Node sets over the response's (an object's entries, or a flat
 * `[name, value, …]` list), with Origin added to their Vary (when the response varies on it) and, for an allowed decision, its
 * access-control headers kept as reapplyAccessControl keeps them on the response: a framework may pass
 * the headers its reply collected this way (Fastify does), and they would replace the decision's.
 */
function headersWithDecision(headers: Record<string, unknown> | unknown[], mark: typeof VARY_ON_ORIGIN | CorsResult, varies: boolean): Record<string, unknown> | unknown[] {
  const result = mark === VARY_ON_ORIGIN ? undefined : mark;
  if (Array.isArray(headers)) {
    const kept: unknown[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const value = decidedValue(String(headers[i]).toLowerCase(), headers[i + 1], result, varies);
      if (value !== undefined) kept.push(headers[i], value);
    }
    return kept;
  }
  let copy: Record<string, unknown> | undefined;
  for (const key in headers) {
    const value = decidedValue(key.toLowerCase(), headers[key], result, varies);
    if (value === headers[key]) continue;
    copy ??= { ...headers };
    if (value === undefined) delete copy[key];
    else copy[key] = value;
  }
  return copy ?? headers;
}

/** A header's value once the decision is applied; undefined: dropped, as the response already has the decision's. */
function decidedValue(name: string, value: unknown, result: CorsResult | undefined, varies: boolean): unknown {
  if (name === 'vary') {
    if (!varies) return value;
    // The edge's own `Vary: Origin` (written into Fastify's reply): the response's Vary has Origin appended by now,
    // beside the fields the app set there, which this one would replace.
    if (value === VARY_ORIGIN[0]) return undefined;
    return varyWith(value as string, VARY_ORIGIN) ?? value;
  }
  if (result === undefined) return value;
  if (name === 'access-control-allow-origin') return undefined;
  if (name === 'access-control-allow-credentials') return result.supportsCredentials ? undefined : value;
  if (name === 'access-control-expose-headers' && result.exposedHeadersValue !== undefined) {
    // The edge's own list, as with Vary above: the response's has it, beside the headers the app exposed there.
    if (value === result.exposedHeadersValue) return undefined;
    return varyWith(value as string, result.allowedExposedHeaders) ?? value;
  }
  return value;
}
