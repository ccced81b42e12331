import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { HttpServer } from '@nestjs/common';
import type { CorsPolicy } from '../core/cors-policy.js';
import { CorsHeaders, type CorsResult, CorsService, deniedResult, isPreflightRequest, appendVary, VARY_ORIGIN } from '../core/cors.service.js';
import { isPromiseLike, type MaybePromise } from '../core/maybe-promise.js';
import { mayBeSameOrigin, parseRequestOrigin } from '../core/origin.js';
import { requestPath } from '../core/request-path.js';
import { withTimeout } from '../core/with-timeout.js';
import { ICorsPolicyProvider } from '../providers/cors-policy-provider.interface.js';
import { resolvePolicy } from '../providers/resolve-policy.js';
import { CorsRouteTable, type PolicyTarget } from './cors-route-table.js';
import { RESOLVED_CORS_OPTIONS } from './identity-cors.constants.js';
import type { ResolvedCorsOptions } from './identity-cors-options.validation.js';

const STATE = Symbol('nest-identity-cors');
/** Set on an Express app's response prototype once its writeHead keeps Vary. */
const HOOKED = Symbol('nest-identity-cors:vary-hook');
/** The response has been through this middleware. */
const HANDLED = 1;
/** ...and its `Vary: Origin` must survive until the headers are written (RULES 8). */
const KEEP_VARY_ORIGIN = 2;

type Request = IncomingMessage;
type MarkHolder = { [STATE]?: typeof HANDLED | typeof KEEP_VARY_ORIGIN };
type Response = ServerResponse & MarkHolder & { locals?: MarkHolder };
type WriteHead = ServerResponse['writeHead'];

/**
 * The per-response mark lives in Express's `res.locals` (a dictionary, under a symbol, out of
 * templates' way): adding a property to a request or response after Express has swapped its
 * prototype costs V8 microseconds per property, which showed up as several percent of a request.
 */
function holderOf(res: Response): MarkHolder {
  return typeof res.locals === 'object' && res.locals !== null ? res.locals : res;
}


/**
 * The thin Nest edge: finds the request's policy (identity path, route metadata, or global policy),
 * asks the provider chain for it, lets CorsService evaluate and apply it, and answers preflights
 * with 204 before routing, so guards and handlers never see them.
 *
 * Hot path: while every step answers synchronously (built-in provider, listed origins and patterns)
 * a request costs no Promise and no timer; the Promise and the policyTimeout timer start only at the
 * first step that is really asynchronous (ICorsPolicyService, a host provider, an async predicate).
 */
@Injectable()
export class CorsMiddleware implements NestMiddleware {
  private readonly logger = new Logger('IdentityCors');
  private mounted = false;
  private serverLevel = false;
  private readonly identityTarget: NonNullable<PolicyTarget>;

  constructor(
    @Inject(RESOLVED_CORS_OPTIONS) private readonly options: ResolvedCorsOptions,
    @Inject(ICorsPolicyProvider) private readonly provider: ICorsPolicyProvider,
    private readonly cors: CorsService,
    private readonly routes: CorsRouteTable,
  ) {
    this.identityTarget = { policyName: options.identity.corsPolicyName };
  }

  /** Mounts this middleware once on the HTTP server for every path; later calls do nothing. */
  mountOn(httpAdapter: HttpServer): void {
    if (this.mounted) return;
    this.mounted = true;
    hookVaryOnPrototype(httpAdapter.getInstance?.());
    httpAdapter.use((req: Request, res: Response, next: () => void) => this.use(req, res, next));
  }

  /**
   * Answers CORS preflights from a listener on the HTTP server itself, before Express sets up the
   * request (about 3× faster on a preflight), and hands every other request to the listeners that
   * were there (Express), unchanged. Preflights answered this way skip middleware mounted before this
   * one and Express's own settings; a preflight this listener cannot decide exactly as the middleware
   * would (possibly same-origin on an identity path, where Express's `req.protocol` matters) goes to Express.
   */
  answerPreflightsOn(server: Pick<Server, 'listeners' | 'removeAllListeners' | 'on'>): void {
    if (this.serverLevel) return;
    this.serverLevel = true;
    const listeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const pass = () => {
        for (const listener of listeners) listener.call(server, req, res);
      };
      if (!this.answersEarly(req)) return pass();
      // Marked before Express sees it: should it come through to the Express mount (on a failure), it is not handled twice.
      (res as Response)[STATE] = HANDLED;
      this.run(req, res, pass);
    });
  }

  private answersEarly(req: Request): boolean {
    if (!isPreflightRequest(req) || typeof req.headers.origin !== 'string') return false;
    const path = requestPath(req);
    if (this.options.identity.corsPaths.has(path)) return !mayBeSameOrigin(req.headers.origin, req.headers.host);
    return this.routes.resolve(String(req.headers['access-control-request-method']), path) !== null;
  }

  use(req: Request, res: Response, next: (error?: unknown) => void): void {
    // A marked response went through here already (before Express, or through a second mount).
    if (holderOf(res)[STATE] !== undefined || (res as Response)[STATE] !== undefined) return next();
    this.run(req, res, next);
  }

  private run(req: Request, res: Response, next: (error?: unknown) => void): void {
    let answered: MaybePromise<boolean>;
    try {
      answered = this.handle(req, res);
    } catch (error) {
      this.handlingFailed(req, error);
      return next();
    }
    if (!isPromiseLike(answered)) {
      if (!answered) next();
      return;
    }
    answered.then(
      (done) => done || next(),
      (error: unknown) => {
        this.handlingFailed(req, error);
        next();
      },
    );
  }

  /** True (now or later) when it has answered the request (a preflight). */
  private handle(req: Request, res: Response): MaybePromise<boolean> {
    const path = requestPath(req);
    const preflight = isPreflightRequest(req);
    const method = preflight ? String(req.headers['access-control-request-method']) : (req.method ?? 'GET');
    const target = this.options.identity.corsPaths.has(path) ? this.identityTarget : this.routes.resolve(method, path);
    if (target === null) return false;

    if (req.headers.origin === undefined) {
      // Not a CORS request, but the response of a CORS route depends on the origin's presence.
      appendVary(res, VARY_ORIGIN);
      this.keepVaryOrigin(res);
      return false;
    }
    const result = this.decide(req, path, target, preflight);
    if (isPromiseLike(result)) return result.then((decided) => this.respond(decided, res, preflight));
    return this.respond(result, res, preflight);
  }

  private respond(result: CorsResult, res: Response, preflight: boolean): boolean {
    this.cors.applyResult(result, res);
    if (!preflight) {
      // An actual request varies on Origin or on nothing (Access-Control-Request-* vary preflights only).
      if (result.varyByOrigin) this.keepVaryOrigin(res);
      return false;
    }
    // Answered and ended right here: nothing can replace Vary afterwards, so no write hook is needed.
    res.statusCode = 204;
    res.setHeader('Content-Length', '0');
    res.end();
    return true;
  }

  /** Marks the response so that `Vary: Origin` is appended again if the app replaces Vary later. */
  private keepVaryOrigin(res: Response): void {
    const holder = holderOf(res);
    if (holder[STATE] === KEEP_VARY_ORIGIN) return;
    holder[STATE] = KEEP_VARY_ORIGIN;
    // A response that does not inherit the hook (not from the Express app this was mounted on): hook it alone.
    if ((res as { [HOOKED]?: true })[HOOKED] !== true) hookWriteHead(res);
  }

  private decide(req: Request, path: string, target: NonNullable<PolicyTarget>, preflight: boolean): MaybePromise<CorsResult> {
    const origin = parseRequestOrigin(req.headers.origin);
    if (origin === undefined) {
      this.logger.debug(`CORS request to ${path} denied: Origin ${JSON.stringify(String(req.headers.origin).slice(0, 100))} is not a serialized origin`);
      return deniedResult(preflight);
    }
    try {
      const policy = resolvePolicy(this.provider, req, target.policyName);
      const result = isPromiseLike(policy) ? policy.then((resolved) => this.evaluate(req, resolved, origin, path, target, preflight)) : this.evaluate(req, policy, origin, path, target, preflight);
      if (!isPromiseLike(result)) return result;
      return withTimeout(result, this.options.policyTimeout, `The CORS decision for ${origin} (${policyLabel(target)})`).then(undefined, (error: unknown) =>
        this.policyFailed(origin, path, target, preflight, error),
      );
    } catch (error) {
      return this.policyFailed(origin, path, target, preflight, error);
    }
  }

  private evaluate(req: Request, policy: CorsPolicy | undefined, origin: string, path: string, target: NonNullable<PolicyTarget>, preflight: boolean): MaybePromise<CorsResult> {
    if (!policy) return deniedResult(preflight);
    const result = this.cors.evaluateOrigin(req, policy, origin, preflight);
    if (isPromiseLike(result)) return result.then((decided) => this.logDenial(decided, origin, path, target));
    return this.logDenial(result, origin, path, target);
  }

  private logDenial(result: CorsResult, origin: string, path: string, target: NonNullable<PolicyTarget>): CorsResult {
    if (!result.isOriginAllowed) this.logger.debug(`CORS request from origin ${origin} to ${path} denied by ${policyLabel(target)}`);
    return result;
  }

  private policyFailed(origin: string, path: string, target: NonNullable<PolicyTarget>, preflight: boolean, error: unknown): CorsResult {
    this.logger.error(
      `CORS request from origin ${origin} to ${path} denied because ${policyLabel(target)} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    return deniedResult(preflight);
  }

  private handlingFailed(req: Request, error: unknown): void {
    this.logger.error(`CORS handling failed for ${req.method} ${requestPath(req)}; no CORS headers sent`, error instanceof Error ? error.stack : String(error));
  }
}

function policyLabel(target: NonNullable<PolicyTarget>): string {
  return target.policyName === undefined ? 'the default policy' : `policy '${target.policyName}'`;
}

/**
 * Wraps `target.writeHead` so that a response marked KEEP_VARY_ORIGIN gets `Vary: Origin` appended
 * again just before its headers are written: an app that sets its own `Vary` later (setHeader
 * replaces) still ends up with both (RULES 8).
 */
function hookWriteHead(target: { writeHead: WriteHead }): void {
  const writeHead = target.writeHead;
  target.writeHead = function writeHeadKeepingVary(this: Response) {
    // 'Origin' is what this middleware leaves when the app set no Vary: nothing to redo.
    if (holderOf(this)[STATE] === KEEP_VARY_ORIGIN && !this.headersSent && this.getHeader(CorsHeaders.vary) !== 'Origin') appendVary(this, VARY_ORIGIN);
    // eslint-disable-next-line prefer-rest-params
    return (writeHead as (...args: unknown[]) => ServerResponse).apply(this, arguments as unknown as unknown[]);
  } as WriteHead;
}

/**
 * Hooks writeHead once on the Express app's own response prototype (`app.response`, meant for
 * extension), so no response pays for a hook of its own: installing a method on each response
 * cost about 1 % of a request. Does nothing when the HTTP adapter is not Express.
 */
function hookVaryOnPrototype(instance: unknown): void {
  const proto = (instance as { response?: unknown } | undefined)?.response as ({ writeHead?: unknown } & { [HOOKED]?: true }) | undefined;
  if (typeof proto !== 'object' || proto === null || typeof proto.writeHead !== 'function' || proto[HOOKED]) return;
  hookWriteHead(proto as { writeHead: WriteHead });
  proto[HOOKED] = true;
}
