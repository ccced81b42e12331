import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { HttpServer } from '@nestjs/common';
import type { CorsPolicy } from '../core/cors-policy.js';
import { answersAnyOrigin, type CorsResult, CorsService, deniedResult, isPreflightRequest, appendVary, reapplyAccessControl, varyWith, VARY_ORIGIN } from '../core/cors.service.js';
import { isPromiseLike, type MaybePromise } from '../core/maybe-promise.js';
import { mayBeSameOrigin, parseRequestOrigin } from '../core/origin.js';
import { requestPath } from '../core/request-path.js';
import { withTimeout } from '../core/with-timeout.js';
import { type CorsDenialReason, LogLimiter, takeDenial } from '../core/log-limiter.js';
import { ICorsPolicyProvider } from '../providers/cors-policy-provider.interface.js';
import { resolvePolicy } from '../providers/resolve-policy.js';
import { CorsRouteTable, type PolicyTarget } from './cors-route-table.js';
import { RESOLVED_CORS_OPTIONS } from './identity-cors.constants.js';
import type { ResolvedCorsOptions } from './identity-cors-options.validation.js';

/** A response's CORS state, kept in its `res.locals` (see holderOf). */
const STATE = Symbol('nest-identity-cors');
/** Set on an Express app's response prototype once its writeHead keeps Vary. */
const HOOKED = Symbol('nest-identity-cors:vary-hook');
/** Set on an Express app once a CorsMiddleware serves it. */
const MOUNTED = Symbol('nest-identity-cors:mounted');
/** The HTTP-server listener has taken the request on (decided it, or failed and let it go): the middleware leaves it alone. */
const TAKEN = 1;
/** The response varies on Origin: `Vary: Origin` is appended as its headers are written (RULES 8). */
const VARY_ON_ORIGIN = 2;

/**
 * A response's mark: TAKEN, VARY_ON_ORIGIN, or the allowed decision itself, whose access-control headers
 * are put back as the headers are written (and `Vary: Origin` appended if it varies), whatever the app
 * did to them before (RULES 15).
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
 * The thin Nest edge: finds the request's policy (identity path, route metadata, or global policy),
 * asks the provider chain for it, lets CorsService evaluate and apply it, and answers preflights
 * with 204 before routing, so guards and handlers never see them.
 *
 * By default (handleBeforeExpress) it does this from a listener on the HTTP server, before Express
 * sets up the request; the Express middleware then handles only what that listener left to it.
 *
 * Hot path: while every step answers synchronously (built-in provider, listed origins and patterns)
 * a request costs no Promise and no timer; the Promise and the policyTimeout timer start only at the
 * first step that is really asynchronous (ICorsPolicyService, a host provider, an async predicate).
 */
@Injectable()
export class CorsMiddleware implements NestMiddleware {
  private readonly logger = new Logger('IdentityCors');
  /** Denials and failures, bounded under a flood (RULES 17); internal, its clock replaceable by tests. */
  readonly logs = new LogLimiter(this.logger);
  private mounted = false;
  /** The Express app's response prototype, once its writeHead keeps Vary: its responses need no hook of their own. */
  private hookedPrototype: object | undefined;
  /** True when the HTTP-server listener hands every request to Express alone, whose responses inherit the hook. */
  private expressServesAll = false;

  constructor(
    @Inject(RESOLVED_CORS_OPTIONS) private readonly options: ResolvedCorsOptions,
    @Inject(ICorsPolicyProvider) private readonly provider: ICorsPolicyProvider,
    private readonly cors: CorsService,
    private readonly routes: CorsRouteTable,
  ) {}

  /**
   * Mounts this middleware once on the HTTP server for every path, and (handleBeforeExpress, the
   * default) handles CORS on the HTTP server itself; later calls do nothing. A second
   * IdentityCorsModule in the same app is a startup error: each would decorate the other's provider.
   */
  mountOn(httpAdapter: HttpServer): void {
    if (this.mounted) return;
    const instance = httpAdapter.getInstance?.() as ({ [MOUNTED]?: CorsMiddleware } & object) | undefined;
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
    if (this.options.handleBeforeExpress && typeof server?.listeners === 'function') this.handleOn(server, instance);
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
    if (target !== null && target === this.routes.unroutedTarget) return undefined;
    if (target === this.routes.identityTarget && origin !== undefined && mayBeSameOrigin(origin, headers.host)) return undefined;
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

  private run(req: Request, res: Response, target: NonNullable<PolicyTarget>, preflight: boolean, next: (error?: unknown) => void): void {
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
  private handle(req: Request, res: Response, target: NonNullable<PolicyTarget>, preflight: boolean): MaybePromise<boolean> {
    // Read once: req.headers is a getter that Express's request prototype puts out of reach of V8's caches.
    const requestOrigin = req.headers.origin;
    if (requestOrigin === undefined) {
      // Not a CORS request, but the response of a CORS route depends on the origin's presence.
      this.mark(res, VARY_ON_ORIGIN);
      return false;
    }
    const result = this.decide(req, requestOrigin, target, preflight);
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

  private decide(req: Request, requestOrigin: string, target: NonNullable<PolicyTarget>, preflight: boolean): MaybePromise<CorsResult> {
    const origin = parseRequestOrigin(requestOrigin);
    // An identity policy lists exact origins: what is not one is denied without asking ICorsPolicyService (RULES 3).
    // Other policies are looked up: an any-origin one answers `*` whatever the Origin says (RULES 16).
    if (origin === undefined && target === this.routes.identityTarget) return this.denied('origin-invalid', req, requestOrigin, target, preflight);
    try {
      const policy = resolvePolicy(this.provider, req, target.policyName);
      const result = isPromiseLike(policy)
        ? policy.then((resolved) => this.evaluate(req, resolved, origin, requestOrigin, target, preflight))
        : this.evaluate(req, policy, origin, requestOrigin, target, preflight);
      if (!isPromiseLike(result)) {
        // The success path's only logging work: one field read while no policy is failing.
        if (this.logs.failing !== 0) this.logs.succeeded(sourceOf(target), policyLabel(target));
        return result;
      }
      return withTimeout(result, this.options.policyTimeout, `The CORS decision for ${origin ?? 'an invalid Origin'} (${policyLabel(target)})`).then(
        (decided) => {
          if (this.logs.failing !== 0) this.logs.succeeded(sourceOf(target), policyLabel(target));
          return decided;
        },
        (error: unknown) => this.policyFailed(req, requestOrigin, target, preflight, error),
      );
    } catch (error) {
      return this.policyFailed(req, requestOrigin, target, preflight, error);
    }
  }

  private evaluate(
    req: Request,
    policy: CorsPolicy | undefined,
    origin: string | undefined,
    requestOrigin: string,
    target: NonNullable<PolicyTarget>,
    preflight: boolean,
  ): MaybePromise<CorsResult> {
    // A provider that declines says why when it knows (identity: server's own origin, ICorsPolicyService's no).
    if (!policy) return this.denied(takeDenial(req) ?? 'no-policy', req, requestOrigin, target, preflight);
    if (origin === undefined) {
      if (!answersAnyOrigin(policy)) return this.denied('origin-invalid', req, requestOrigin, target, preflight);
      // The answer is `*` whatever the origin, so the unparsed value is never reflected.
      return this.cors.evaluateOrigin(req, policy, requestOrigin, preflight);
    }
    const result = this.cors.evaluateOrigin(req, policy, origin, preflight);
    if (isPromiseLike(result)) return result.then((decided) => this.checkDenied(decided, req, origin, target));
    return this.checkDenied(result, req, origin, target);
  }

  private checkDenied(result: CorsResult, req: Request, origin: string, target: NonNullable<PolicyTarget>): CorsResult {
    if (!result.isOriginAllowed) this.logDenial('origin-not-allowed', req, origin, target);
    return result;
  }

  /** A denial, logged: exactly one (rate-limited) debug line per denied request (RULES 13, 17). */
  private denied(reason: CorsDenialReason, req: Request, requestOrigin: string, target: NonNullable<PolicyTarget>, preflight: boolean): CorsResult {
    this.logDenial(reason, req, requestOrigin, target);
    return deniedResult(preflight);
  }

  private logDenial(reason: CorsDenialReason, req: Request, requestOrigin: string, target: NonNullable<PolicyTarget>): void {
    // The cause is the reason and the policy (a bounded set); the origin and path are only its example.
    this.logs.limited('debug', `${reason} ${sourceOf(target)}`, () => `CORS request denied (${reason}, ${policyLabel(target)}): ${DENIAL_TEXT[reason]}; e.g. ${example(req, requestOrigin)}`);
  }

  private policyFailed(req: Request, requestOrigin: string, target: NonNullable<PolicyTarget>, preflight: boolean, error: unknown): CorsResult {
    const origin = parseRequestOrigin(requestOrigin) ?? JSON.stringify(String(requestOrigin).slice(0, 100));
    const example = `CORS request from origin ${origin} to ${String(requestPath(req) ?? req.url).slice(0, 200)}`;
    this.logs.failed(sourceOf(target), policyLabel(target), error instanceof Error ? error.message : String(error), example);
    return deniedResult(preflight);
  }

  /** The library's own failure (a bug, or a broken collaborator): rate-limited per stage, as attackers may repeat it. */
  private handlingFailed(stage: 'route lookup' | 'decision', req: Request, error: unknown): void {
    this.logs.limited(
      'error',
      `handling-failed ${stage}`,
      () => `CORS handling failed for ${String(req.method).slice(0, 20)} ${String(requestPath(req) ?? req.url).slice(0, 200)}; no CORS headers sent: ${error instanceof Error ? error.stack : String(error)}`,
    );
  }
}

/** What each denial reason means, for its log line. */
const DENIAL_TEXT: Record<CorsDenialReason, string> = {
  'no-policy': 'no CORS policy applies',
  'origin-invalid': 'the Origin header is not a serialized origin',
  'origin-not-allowed': 'the policy does not allow the origin',
  'service-denied': 'ICorsPolicyService did not allow the origin',
  'policy-failed': 'the policy failed',
  'server-origin': "the origin is the server's own, so no CORS is needed",
};

/** A request as a log example: its origin and path, quoted and bounded (attackers choose both). */
function example(req: Request, requestOrigin: string): string {
  return `Origin ${JSON.stringify(String(requestOrigin).slice(0, 100))} to ${JSON.stringify(String(requestPath(req) ?? req.url).slice(0, 200))}`;
}

/** A policy target's key among the limiter's causes: its name (bounded by the app's policies). */
function sourceOf(target: NonNullable<PolicyTarget>): string {
  return target.policyName ?? '';
}

function policyLabel(target: NonNullable<PolicyTarget>): string {
  return target.policyName === undefined ? 'the default policy' : `policy '${target.policyName}'`;
}

/**
 * Wraps `target.writeHead` so that a marked response gets its CORS headers as its headers are written,
 * as ASP.NET Core's Response.OnStarting does: `Vary: Origin` appended (an app that sets its own `Vary`
 * after the middleware ran still ends up with both, RULES 8), and an allowed decision's access-control
 * headers put back if a filter removed or replaced them (RULES 15).
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
