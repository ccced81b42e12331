/**
 * What every platform's edge does with Node's own request and response, whichever framework wraps them:
 * resolve the route target, have the CorsHandler decide, write the result, answer a preflight with 204,
 * and mark an actual request's response so that its CORS headers are put back as its headers are written.
 * A platform folder says where a response's mark lives and how it gets the writeHead hook.
 * Over 200 lines because the writeHead hook and the headers it corrects (RULES 8, 19) belong with the marks they read.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type CorsResult, CorsService, isPreflightRequest, appendVary, reapplyAccessControl, varyWith, VARY_ORIGIN } from '../core/cors.service.js';
import { isPromiseLike, type MaybePromise } from '../core/maybe-promise.js';
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
 * The framework's own object for a request the edge may answer (Fastify's reply): told, just before a preflight
 * is answered and ended on Node's response, that the framework must not answer it too.
 */
export interface Answering {
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
   * on; `answering`, when given, is told as a preflight is answered (before the response ends). An object
   * the framework made already rather than a callback, so no request pays a closure for the rare preflight
   * (too small to show in bench/layer-instructions.sh, whose counts move by about ±1 k from run to run).
   */
  protected handleRequest(req: IncomingMessage, res: NodeResponse, next: (error?: unknown) => void, answering?: Answering): void {
    const preflight = isPreflightRequest(req);
    const target = this.routes.resolve(preflight ? String(req.headers['access-control-request-method']) : (req.method ?? 'GET'), this.routes.pathOf(req));
    if (target === null) return next();
    this.run(req, res, target, preflight, next, answering);
  }

  protected run(req: IncomingMessage, res: NodeResponse, target: RouteTarget, preflight: boolean, next: (error?: unknown) => void, answering?: Answering): void {
    let answered: MaybePromise<boolean>;
    try {
      answered = this.handle(req, res, target, preflight, answering);
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
  private handle(req: IncomingMessage, res: NodeResponse, target: RouteTarget, preflight: boolean, answering: Answering | undefined): MaybePromise<boolean> {
    // Read once: req.headers is a getter that Express's request prototype puts out of reach of V8's caches.
    const origin = req.headers.origin;
    if (origin === undefined) {
      // Not a CORS request, but the response of a CORS route depends on the origin's presence (RULES 4, 8).
      this.mark(res, VARY_ON_ORIGIN);
      return false;
    }
    // The path is only the example of a denial's log line: the raw target, quoted and bounded there, costs no parse.
    const result = this.handler.decide(req, origin, String(req.url), target, preflight);
    // Something else may have answered while the policy was decided (Fastify's handlerTimeout sends a 503): the
    // request is over, nothing is left to write (setHeader would throw) and nothing to pass on.
    if (isPromiseLike(result)) return result.then((decided) => res.headersSent || this.respond(decided, res, preflight, answering));
    return this.respond(result, res, preflight, answering);
  }

  private respond(result: CorsResult, res: NodeResponse, preflight: boolean, answering: Answering | undefined): boolean {
    if (!preflight) {
      // Written now, so the app sees them; kept in the mark, so they are put back as the response starts.
      // An actual request varies on Origin or on nothing (Access-Control-Request-* vary preflights only).
      this.cors.applyAccessControl(result, res);
      if (result.isOriginAllowed) this.mark(res, result);
      else if (result.varyByOrigin) this.mark(res, VARY_ON_ORIGIN);
      return false;
    }
    // Answered and ended right here: nothing can replace Vary afterwards, so Vary is written now.
    this.cors.applyResult(result, res);
    answering?.hijack();
    res.statusCode = 204;
    res.setHeader('Content-Length', '0');
    res.end();
    return true;
  }

  /**
   * Marks the response for its writeHead hook: `Vary: Origin` appended to whatever Vary the app has set by
   * then (setHeader replaces), and an allowed decision's access-control headers put back if the app
   * removed or replaced them. One read and one write of Vary per response, one read per CORS header.
   */
  private mark(res: NodeResponse, mark: typeof VARY_ON_ORIGIN | CorsResult): void {
    const holder = this.holderOf(res);
    const hooked = this.inheritsHook(res, holder);
    holder[STATE] = mark;
    if (hooked || res[HOOKED] === true) return;
    // A response that does not inherit the hook: hook it alone.
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
 * Wraps `target.writeHead` (a response, or a response prototype) so that a marked response gets its CORS
 * headers as its headers are written, as ASP.NET Core's Response.OnStarting does: `Vary: Origin` appended
 * (an app that sets its own `Vary` after the edge ran still ends up with both, RULES 8), and an allowed
 * decision's access-control headers put back if a filter removed or replaced them (RULES 19).
 * `holderOf` finds where the platform keeps the response's mark.
 */
export function hookWriteHead(target: { writeHead: WriteHead }, holderOf: (res: NodeResponse) => MarkHolder): void {
  const writeHead = target.writeHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
  // Named parameters, passed on with the caller's arity: no arguments object per response.
  target.writeHead = function writeHeadVaryingOnOrigin(this: NodeResponse, statusCode: number, reason?: unknown, headers?: unknown) {
    const arity = arguments.length;
    // No headersSent check: once headers are out, setHeader below throws ERR_HTTP_HEADERS_SENT as Node's writeHead
    // would. Reading headersSent through Express's response prototype cost more than the rest of this hook.
    const mark = holderOf(this)[STATE];
    if (mark !== undefined && mark !== TAKEN) {
      const varies = mark === VARY_ON_ORIGIN || reapplied(mark, this);
      if (varies) appendVary(this, VARY_ORIGIN);
      // writeHead(status, [message,] headers): headers given here are set over the response's, so the decision
      // is applied to them too, an allowed one's even when it does not vary on Origin (any origin: `*`). As Node
      // reads them: a non-string message that is an object stands for the headers when no headers follow it.
      if (typeof headers === 'object' && headers !== null) headers = headersWithDecision(headers as Record<string, unknown> | unknown[], mark, varies);
      else if (typeof reason === 'object' && reason !== null) reason = headersWithDecision(reason as Record<string, unknown> | unknown[], mark, varies);
    }
    if (arity <= 1) return writeHead.call(this, statusCode);
    return arity === 2 ? writeHead.call(this, statusCode, reason) : writeHead.call(this, statusCode, reason, headers);
  } as WriteHead;
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
  if (name === 'vary') return varies ? (varyWith(value as string, VARY_ORIGIN) ?? value) : value;
  if (result === undefined) return value;
  if (name === 'access-control-allow-origin') return undefined;
  if (name === 'access-control-allow-credentials') return result.supportsCredentials ? undefined : value;
  if (name === 'access-control-expose-headers' && result.exposedHeadersValue !== undefined) return varyWith(value as string, result.allowedExposedHeaders) ?? value;
  return value;
}
