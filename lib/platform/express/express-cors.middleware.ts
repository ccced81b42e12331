/**
 * The Express edge. Over 200 lines because it is the one door behind which Express's speed tricks live (the
 * HTTP-server listener, the res.locals mark, the writeHead hook on Express's response prototype), each measured;
 * docs/internals.md says what each bought. The decision itself is CorsHandler's.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { NestMiddleware } from '@nestjs/common';
import type { HttpServer } from '@nestjs/common';
import { type CorsResult, CorsService, isPreflightRequest, appendVary, reapplyAccessControl, varyWith, VARY_ORIGIN } from '../../core/cors.service.js';
import { isPromiseLike, type MaybePromise } from '../../core/maybe-promise.js';
import { mayBeSameOrigin } from '../../core/origin.js';
import { requestPath } from '../../core/request-path.js';
import type { CorsHandler } from '../../handler/cors-handler.js';
import type { CorsRouteTable } from '../../handler/cors-route-table.js';
import type { PolicyTarget, RouteTarget } from '../../handler/route-target.js';

/** A response's CORS state, kept in its `res.locals` (see holderOf). */
const STATE = Symbol('nest-identity-cors');
/** Set on an Express app's response prototype once its writeHead keeps Vary. */
const HOOKED = Symbol('nest-identity-cors:vary-hook');
/** Set on an Express app once an ExpressCorsMiddleware serves it. */
const MOUNTED = Symbol('nest-identity-cors:mounted');
/** The HTTP-server listener has taken the request on (decided it, or failed and let it go): the middleware leaves it alone. */
const TAKEN = 1;
/** The response varies on Origin: `Vary: Origin` is appended as its headers are written (RULES 8). */
const VARY_ON_ORIGIN = 2;

/**
 * A response's mark: TAKEN, VARY_ON_ORIGIN, or the allowed decision itself, whose access-control headers
 * are put back as the headers are written (and `Vary: Origin` appended if it varies), whatever the app
 * did to them before (RULES 19).
 */
type Mark = typeof TAKEN | typeof VARY_ON_ORIGIN | CorsResult;

type Request = IncomingMessage;
type MarkHolder = { [STATE]?: Mark };
type Response = ServerResponse & MarkHolder & { locals?: MarkHolder };
type WriteHead = ServerResponse['writeHead'];
type ResponsePrototype = { writeHead?: unknown; [HOOKED]?: true };

/**
 * The per-response mark lives in Express's `res.locals` (a dictionary, under a symbol, out of
 * templates' way): adding a property to a request or response after Express has swapped its
 * prototype costs V8 microseconds per property, which showed up as several percent of a request.
 */
function holderOf(res: Response): MarkHolder {
  const locals = res.locals;
  return typeof locals === 'object' && locals !== null ? locals : res;
}


/**
 * The Express edge: finds each request's route target in the route table, has the CorsHandler decide it,
 * writes the result, and answers preflights with 204 before routing, so guards and handlers never see them.
 *
 * By default (handleBeforeExpress) it does this from a listener on the HTTP server, before Express
 * sets up the request; the Express middleware then handles only what that listener left to it.
 * The speed tricks of the Express platform live here, and only here (docs/internals.md says what each measured).
 */
export class ExpressCorsMiddleware implements NestMiddleware {
  private mounted = false;
  /** The Express app's response prototype, once its writeHead keeps Vary: its responses need no hook of their own. */
  private hookedPrototype: object | undefined;
  /** True when the HTTP-server listener hands every request to Express alone, whose responses inherit the hook. */
  private expressServesAll = false;

  constructor(
    private readonly handler: CorsHandler,
    private readonly cors: CorsService,
    private readonly routes: CorsRouteTable,
    private readonly handleBeforeExpress: boolean,
  ) {}

  /**
   * Mounts this middleware once on the HTTP server for every path, and (handleBeforeExpress, the
   * default) handles CORS on the HTTP server itself; later calls do nothing. A second
   * IdentityCorsModule in the same app is a startup error: each would decorate the other's provider.
   */
  mountOn(httpAdapter: HttpServer): void {
    if (this.mounted) return;
    const instance = httpAdapter.getInstance?.() as ({ [MOUNTED]?: ExpressCorsMiddleware } & object) | undefined;
    if (instance !== undefined && instance !== null) {
      if (instance[MOUNTED] !== undefined && instance[MOUNTED] !== this) {
        throw new Error(
          'IdentityCorsModule is imported more than once in this app (IdentityCorsModule.forRoot or forRootAsync in two modules). Import it once, in AppModule: its policies and services serve every module.',
        );
      }
      instance[MOUNTED] = this;
    }
    this.mounted = true;
    this.hookedPrototype = hookVaryOnPrototype(instance);
    httpAdapter.use((req: Request, res: Response, next: () => void) => this.use(req, res, next));
    // Express only (its response prototype was found): its listener is the one handed the other requests.
    const server = this.hookedPrototype === undefined ? undefined : (httpAdapter.getHttpServer?.() as Server | undefined);
    if (this.handleBeforeExpress && typeof server?.listeners === 'function') this.handleOn(server, instance);
  }

  /**
   * Handles CORS from a listener on the HTTP server itself, before Express sets up the request, then
   * hands the request to the listeners that were there (Express): preflights are answered there (about
   * 5× the preflight throughput in the bench), actual requests get their headers there. Express's request
   * and response objects cost V8 more to work with once a middleware touches them; the raw ones do not.
   * What this listener cannot decide exactly as the middleware would, it leaves to the middleware:
   * possibly same-origin requests on an identity path (Express's `req.protocol` matters), paths no route
   * serves (another listener, such as socket.io's, may serve them), and OPTIONS requests that are not
   * preflights or whose route has no CORS.
   */
  private handleOn(server: Pick<Server, 'listeners' | 'removeAllListeners' | 'on'>, instance: unknown): void {
    type Listener = (this: unknown, req: IncomingMessage, res: ServerResponse) => void;
    const listeners = server.listeners('request') as Listener[];
    server.removeAllListeners('request');
    // Express alone swaps every response's prototype for its own (hooked) one: no response needs a hook of its own.
    this.expressServesAll = listeners.length === 1 && listeners[0] === instance;
    // Usually one listener, Express's app: called directly, so each request costs one call more.
    const pass: Listener =
      listeners.length === 1
        ? listeners[0]!
        : function passToAll(req, res) {
            for (const listener of listeners) listener.call(this, req, res);
          };
    const passOn = (req: IncomingMessage, res: ServerResponse) => pass.call(server, req, res);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handleFirst(req, res, passOn));
  }

  /** The HTTP-server listener's work on one request: handles what it can, then passes the request on (to Express). Public for bench/layer.mjs. */
  handleFirst(req: Request, res: Response, pass: (req: Request, res: Response) => void): void {
    let target: PolicyTarget | undefined;
    try {
      target = this.takeOn(req);
    } catch (error) {
      // A throw here would reach the server's 'request' event and take the process down: the middleware tries instead.
      this.handlingFailed('route lookup', req, error);
      return pass(req, res);
    }
    if (target === undefined) return pass(req, res);
    // Express keeps a response's locals; the mark there tells the middleware this request is taken.
    const locals: MarkHolder = Object.create(null);
    locals[STATE] = TAKEN;
    res.locals = locals;
    if (target === null) return pass(req, res);
    this.run(req, res, target, req.method === 'OPTIONS', () => pass(req, res));
  }

  /**
   * The policy target of a request the HTTP-server listener handles itself, or undefined for one it
   * leaves to Express and the middleware. With the listener in front, the middleware handles only those,
   * so the shared helpers see raw requests almost always: giving them both kinds alike cost about 10 µs
   * of CPU per request (V8).
   */
  private takeOn(req: Request): PolicyTarget | undefined {
    const headers = req.headers;
    const origin = headers.origin;
    let target: PolicyTarget;
    if (req.method === 'OPTIONS') {
      const requestMethod = headers['access-control-request-method'];
      if (requestMethod === undefined || origin === undefined) return undefined;
      target = this.routes.resolve(requestMethod, requestPath(req));
      if (target === null) return undefined;
    } else {
      target = this.routes.resolve(req.method ?? 'GET', requestPath(req));
    }
    if (target?.kind === 'unrouted') return undefined;
    if (target?.kind === 'identity' && origin !== undefined && mayBeSameOrigin(origin, headers.host)) return undefined;
    return target;
  }

  use(req: Request, res: Response, next: (error?: unknown) => void): void {
    // Taken on by the HTTP-server listener already.
    if (holderOf(res)[STATE] !== undefined) return next();
    const preflight = isPreflightRequest(req);
    const target = this.routes.resolve(preflight ? String(req.headers['access-control-request-method']) : (req.method ?? 'GET'), requestPath(req));
    if (target === null) return next();
    this.run(req, res, target, preflight, next);
  }

  private run(req: Request, res: Response, target: RouteTarget, preflight: boolean, next: (error?: unknown) => void): void {
    let answered: MaybePromise<boolean>;
    try {
      answered = this.handle(req, res, target, preflight);
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
  private handle(req: Request, res: Response, target: RouteTarget, preflight: boolean): MaybePromise<boolean> {
    // Read once: req.headers is a getter that Express's request prototype puts out of reach of V8's caches.
    const origin = req.headers.origin;
    if (origin === undefined) {
      // Not a CORS request, but the response of a CORS route depends on the origin's presence (RULES 4, 8).
      this.mark(res, VARY_ON_ORIGIN);
      return false;
    }
    // The path is only the example of a denial's log line: the raw target, quoted and bounded there, costs no parse.
    const result = this.handler.decide(req, origin, String(req.url), target, preflight);
    if (isPromiseLike(result)) return result.then((decided) => this.respond(decided, res, preflight));
    return this.respond(result, res, preflight);
  }

  private respond(result: CorsResult, res: Response, preflight: boolean): boolean {
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
  private mark(res: Response, mark: typeof VARY_ON_ORIGIN | CorsResult): void {
    const holder = holderOf(res);
    // Taken on by the HTTP-server listener: Express, its only listener, gives the response the hooked prototype next.
    const hooked = (holder[STATE] === TAKEN && this.expressServesAll) || Object.getPrototypeOf(res) === this.hookedPrototype;
    holder[STATE] = mark;
    if (hooked || (res as { [HOOKED]?: true })[HOOKED] === true) return;
    // A response that does not inherit the hook (not from the Express app this was mounted on): hook it alone.
    hookWriteHead(res);
    (res as { [HOOKED]?: true })[HOOKED] = true;
  }

  /** The library's own failure (a bug, or a broken collaborator): rate-limited per stage, as attackers may repeat it. */
  private handlingFailed(stage: 'route lookup' | 'decision', req: Request, error: unknown): void {
    this.handler.logs.limited(
      'error',
      `handling-failed ${stage}`,
      () => `CORS handling failed for ${String(req.method).slice(0, 20)} ${String(requestPath(req) ?? req.url).slice(0, 200)}; no CORS headers sent: ${error instanceof Error ? error.stack : String(error)}`,
    );
  }

}

/**
 * Wraps `target.writeHead` so that a marked response gets its CORS headers as its headers are written,
 * as ASP.NET Core's Response.OnStarting does: `Vary: Origin` appended (an app that sets its own `Vary`
 * after the middleware ran still ends up with both, RULES 8), and an allowed decision's access-control
 * headers put back if a filter removed or replaced them (RULES 19).
 */
function hookWriteHead(target: { writeHead: WriteHead }): void {
  const writeHead = target.writeHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
  // Named parameters, passed on with the caller's arity: no arguments object per response.
  target.writeHead = function writeHeadVaryingOnOrigin(this: Response, statusCode: number, reason?: unknown, headers?: unknown) {
    const arity = arguments.length;
    // No headersSent check: once headers are out, setHeader below throws ERR_HTTP_HEADERS_SENT as Node's writeHead
    // would. Reading headersSent through Express's response prototype cost more than the rest of this hook.
    const mark = holderOf(this)[STATE];
    if (mark !== undefined && mark !== TAKEN && (mark === VARY_ON_ORIGIN || reapplied(mark, this))) {
      appendVary(this, VARY_ORIGIN);
      // writeHead(status, [message,] headers): a Vary among those headers would replace the one just set.
      // As Node reads them: a non-string message that is an object stands for the headers when no headers follow it.
      if (typeof headers === 'object' && headers !== null) headers = headersVaryingOnOrigin(headers as Record<string, unknown> | unknown[]);
      else if (typeof reason === 'object' && reason !== null) reason = headersVaryingOnOrigin(reason as Record<string, unknown> | unknown[]);
    }
    if (arity <= 1) return writeHead.call(this, statusCode);
    return arity === 2 ? writeHead.call(this, statusCode, reason) : writeHead.call(this, statusCode, reason, headers);
  } as WriteHead;
}

/** Puts back an allowed decision's access-control headers; true when the response varies on Origin. */
function reapplied(result: CorsResult, res: Response): boolean {
  reapplyAccessControl(result, res);
  return result.varyByOrigin;
}

/**
 * writeHead's own headers with Origin added to their Vary, if they have one: Node sets an object's
 * entries, or a flat `[name, value, …]` list, over the response's headers, replacing (it refuses
 * any other list).
 */
function headersVaryingOnOrigin(headers: Record<string, unknown> | unknown[]): Record<string, unknown> | unknown[] {
  if (Array.isArray(headers)) {
    return headers.map((value, i) =>
      i % 2 === 1 && String(headers[i - 1]).toLowerCase() === 'vary' ? (varyWith(value as string, VARY_ORIGIN) ?? value) : value,
    );
  }
  const name = Object.keys(headers).find((key) => key.toLowerCase() === 'vary');
  if (name === undefined) return headers;
  return { ...headers, [name]: varyWith(headers[name] as string, VARY_ORIGIN) ?? headers[name] };
}

/**
 * Hooks writeHead once on the Express app's own response prototype (`app.response`, meant for
 * extension), so no response pays for a hook of its own: installing a method on each response
 * cost about 1 % of a request. Returns the hooked prototype, or undefined when the HTTP adapter is not Express.
 */
function hookVaryOnPrototype(instance: unknown): object | undefined {
  const proto = (instance as { response?: unknown } | undefined)?.response as ResponsePrototype | undefined;
  if (typeof proto !== 'object' || proto === null || typeof proto.writeHead !== 'function') return undefined;
  if (proto[HOOKED] !== true) {
    hookWriteHead(proto as { writeHead: WriteHead });
    proto[HOOKED] = true;
  }
  return proto;
}
