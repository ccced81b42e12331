/**
 * The Fastify edge: decides actual requests in the first request hook of Nest's FastifyAdapter (`setOnRequestHook`,
 * ahead of Nest middleware, `app.enableCors()`'s hook, body parsing, guards and handlers) and writes their headers
 * into the reply's (Fastify sends them with every response, errors included); answers preflights of CORS routes
 * from a listener on the HTTP server, before Fastify (or in the hook: handleBeforeExpress false, rewriteUrl): the same
 * headers as on Express (RULES 23).
 * Over 200 lines because the route records, the hook slot and the server listener each need the others' state; the
 * speed tricks of this platform live here, each with what it measured.
 */
import { type IncomingMessage, type Server, ServerResponse } from 'node:http';
import { type HttpServer, Logger } from '@nestjs/common';
import { appendVary, CorsHeaders, type CorsResponse, type CorsResult, type CorsService, VARY_ORIGIN } from '../../core/cors.service.js';
import { mayBeSameOrigin } from '../../core/origin.js';
import type { CorsHandler } from '../../handler/cors-handler.js';
import type { CorsRouteTable } from '../../handler/cors-route-table.js';
import { LOG_CONTEXT } from '../../handler/log-context.js';
import type { PolicyTarget, RouteMatch } from '../../handler/route-target.js';
import { type FrameworkReply, leftToFramework, type MarkHolder, NodeCorsEdge, type NodeResponse, STATE, TAKEN, VARY_ON_ORIGIN, writeHeadKeepingDecision } from '../node-cors-edge.js';
import { type FastifyInitialConfig, type FastifyRouteRecord, FastifyRoutes, pathOptionsOf } from './fastify-routes.js';

/** The parts of Fastify's request and reply read here. */
interface FastifyRequestLike {
  raw: IncomingMessage & { protocol?: string };
  protocol?: string;
}
interface FastifyReplyLike {
  raw: NodeResponse;
  hijack(): void;
  getHeader(name: string): number | string | string[] | undefined;
  header(name: string, value: unknown): unknown;
}

/**
 * A Fastify reply's headers as the CorsService writes them: one per edge, pointed at a reply for one synchronous
 * write (no object per request). The decision's headers go straight into the object where Fastify keeps the reply's
 * headers (`own`, found under Fastify's symbol), each name at a store of its own: through `reply.header`, which
 * lower-cases every name and stores all of them at one site, an allowed GET cost about 1.7 k instructions more on
 * (fc) and 2.7 k more on (fd), partly in Fastify's and Nest's later reads of that object (bench/layer-instructions.sh).
 * The object holds what `reply.header` would have put there: lower-case names, the values as given.
 */
export class ReplyHeaders implements CorsResponse {
  reply: FastifyReplyLike | undefined;
  /** The reply's headers object, or undefined (another Fastify version): then the reply's own methods. */
  own: Record<string, unknown> | undefined;

  getHeader(name: string): number | string | string[] | undefined {
    const own = this.own;
    if (own === undefined || name !== 'vary') return this.reply!.getHeader(LOWER_CASE[name] ?? name);
    // As reply.getHeader reads it: the reply's, else Node's response's (a middleware's).
    const vary = own.vary as string | undefined;
    return vary !== undefined ? vary : this.reply!.raw.getHeader('vary');
  }

  setHeader(name: string, value: number | string | readonly string[]): void {
    const own = this.own;
    if (own === undefined) {
      this.reply!.header(LOWER_CASE[name] ?? name, value);
      return;
    }
    switch (name) {
      case CorsHeaders.allowOrigin:
        own['access-control-allow-origin'] = value;
        return;
      case CorsHeaders.allowCredentials:
        own['access-control-allow-credentials'] = value;
        return;
      case CorsHeaders.exposeHeaders:
        own['access-control-expose-headers'] = value;
        return;
      case CorsHeaders.vary:
        own.vary = value;
        return;
      default:
        this.reply!.header(LOWER_CASE[name] ?? name, value);
    }
  }
}

/** The CORS headers' names as Fastify keeps them: it lower-cases each name it is given, a new string per call. */
const LOWER_CASE: Readonly<Record<string, string>> = Object.fromEntries(Object.values(CorsHeaders).map((name) => [name, name.toLowerCase()]));

/** writeHead of Node's responses, hooked once for every response whose own writeHead is Node's (see hookAlone). */
const nodeWriteHead = ServerResponse.prototype.writeHead;
const writeHeadOfMarked = writeHeadKeepingDecision(nodeWriteHead, (res) => res);
type Done = (error?: unknown) => void;
type RequestHook = (request: FastifyRequestLike, reply: FastifyReplyLike, done: Done) => unknown;

/** A route's options as Fastify's onRoute hooks get them (and may change: its url, method and handler). */
interface FastifyRouteOptions extends FastifyRouteRecord {
  config?: Record<string | symbol, unknown>;
}

/** The parts of a Fastify instance used here. */
interface FastifyInstanceLike {
  addHook(name: 'onRoute', hook: (route: FastifyRouteOptions) => void): unknown;
  route(options: FastifyRouteOptions): unknown;
  addHook(name: 'onReady' | 'preClose', hook: (done: (error?: Error) => void) => void): unknown;
  hasRequestDecorator(name: string): boolean;
  initialConfig: FastifyInitialConfig;
}

/** Nest's FastifyAdapter, with the request-hook slot it runs before its other hooks. */
interface FastifyAdapterLike extends HttpServer {
  getInstance(): FastifyInstanceLike;
  setOnRequestHook(hook: RequestHook): void;
}

/** Where a route's config keeps the handler it was registered with (see mountOn). */
const GIVEN_HANDLER = Symbol('nest-identity-cors:handler');

/** True when the HTTP adapter is Nest's FastifyAdapter. */
export function isFastifyAdapter(httpAdapter: HttpServer): httpAdapter is FastifyAdapterLike {
  return (httpAdapter as { getType?(): string }).getType?.() === 'fastify';
}

export class FastifyCorsEdge extends NodeCorsEdge {
  private readonly logger = new Logger(LOG_CONTEXT);
  private adapter: FastifyAdapterLike | undefined;
  /** The Fastify instance whose routes are recorded. */
  private watched: FastifyInstanceLike | undefined;
  /** Every route Fastify registers, in order, from its onRoute hook: its options, and the handler it was given. */
  private readonly records: Array<{ route: FastifyRouteOptions; handler: Function }> = [];
  /** How many records the route table was built from. */
  private built = -1;
  private routeOf: ((handler: Function) => RouteMatch & { nest: boolean }) | undefined;
  /** The policy of routes without CORS metadata, as the route table was given it. */
  private global: { name?: string } | undefined;
  /** This edge's hook in the adapter's slot: alone, or chained with the hook that held the slot before. */
  private chained: RequestHook | undefined;
  private readonly replyHeaders = new ReplyHeaders();
  /** Fastify's symbol for a reply's headers object (see ReplyHeaders): looked up on the first reply; null: none. */
  private replyHeadersKey: symbol | null | undefined;
  /** Fastify is closing: its own listener answers what still comes (503 with return503OnClosing). */
  private closing = false;
  private readonly hook: RequestHook = (request, reply, done) => this.onRequest(request, reply, done);

  /**
   * `preflightsFirst` (the handleBeforeExpress option): preflights of CORS routes are answered from a listener on the
   * HTTP server, before Fastify sets up the request (see listenFirst); otherwise in the request hook.
   */
  constructor(
    handler: CorsHandler,
    cors: CorsService,
    routes: CorsRouteTable,
    private readonly preflightsFirst = true,
  ) {
    super(handler, cors, routes);
  }

  get mounted(): boolean {
    return this.adapter !== undefined;
  }

  /**
   * Mounts once: records every route Fastify registers from now on (see watchRoutes), and runs first in the
   * adapter's request-hook slot (a hook already there runs after this one). Before Nest registers routes.
   */
  mountOn(httpAdapter: FastifyAdapterLike): void {
    if (this.adapter !== undefined) return;
    const instance = httpAdapter.getInstance();
    this.claim(instance);
    this.watchRoutes(httpAdapter);
    this.adapter = httpAdapter;
    const previous = (httpAdapter as unknown as { onRequestHook?: RequestHook }).onRequestHook;
    httpAdapter.setOnRequestHook(previous === undefined ? this.hook : this.chainedWith(previous));
    instance.addHook('onReady', (done) => {
      this.onReady(instance);
      done();
    });
    if (this.preflightsFirst) {
      instance.addHook('preClose', (done) => {
        this.closing = true;
        done();
      });
      this.listenFirst(instance);
    }
  }

  /**
   * Answers preflights of CORS routes from a listener on the HTTP server, before Fastify sets up the request, as the
   * Express edge does: their throughput went from about 1.0× @fastify/cors's to 1.17 – 1.23× (npm run bench), for
   * Fastify's request and reply objects, its routing and its hooks cost more than the answer. Every other request
   * goes to Fastify's own listener as it came. Not when the app rewrites URLs (`rewriteUrl`: the path to route would
   * then be Fastify's to say), nor when that cannot be told, nor beside other request listeners.
   */
  private listenFirst(instance: FastifyInstanceLike): void {
    const server = (instance as { server?: Server }).server;
    if (server === undefined || typeof server.listeners !== 'function' || rewritesUrls(instance) !== false) return;
    const listeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
    if (listeners.length !== 1) return;
    const fastify = listeners[0]!;
    const pass = (req: IncomingMessage, res: ServerResponse) => fastify.call(server, req, res);
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.preflightFirst(req, res, pass));
  }

  /** The HTTP-server listener's work on one request: a preflight it can answer exactly as the hook would, answered; the rest passed on. Public for bench/layer.mjs. */
  preflightFirst(req: IncomingMessage, res: NodeResponse, pass: (req: IncomingMessage, res: NodeResponse) => void): void {
    if (req.method !== 'OPTIONS') return pass(req, res);
    const headers = req.headers;
    const requestMethod = headers['access-control-request-method'];
    const origin = headers.origin;
    // Closing (Fastify's return503OnClosing) or shutting down (Nest's adapter's): Fastify's to answer, 503.
    if (requestMethod === undefined || origin === undefined || this.closing || (this.adapter as { isShuttingDown?: boolean } | undefined)?.isShuttingDown === true) return pass(req, res);
    let target: PolicyTarget;
    try {
      target = this.routes.resolve(requestMethod, this.routes.pathOf(req));
    } catch (error) {
      // A throw here would reach the server's 'request' event and take the process down: the hook tries instead.
      this.handlingFailed('route lookup', req, error);
      return pass(req, res);
    }
    // Routes without CORS are Fastify's to answer (404, or the app's OPTIONS route); so are the hook's own cases.
    if (target === null || leftToFramework(target, origin, headers.host)) return pass(req, res);
    // Taken on: should the decision fail, Fastify gets the request, and the hook leaves it alone.
    res[STATE] = TAKEN;
    this.run(req, res, target, true, () => pass(req, res));
  }

  /**
   * Records every route Fastify registers from now on, once. As early as the adapter is known (as IdentityCorsModule
   * is built, under NestFactory.create), so that the routes of plugins the app registers before app.init() are known
   * too: missing from the copy, a path of theirs would get the policy of a Nest route whose pattern matches it.
   */
  watchRoutes(httpAdapter: FastifyAdapterLike): void {
    const instance = httpAdapter.getInstance();
    if (this.watched === instance) return;
    this.watched = instance;
    // The app's onRoute hooks may replace a route's handler (a wrapper, for tracing or timing) before this one runs
    // (one added on the instance before app.init()), and that handler would no longer name its controller method: the
    // route would get the global policy, @DisableCors or not. So the handler given to `route` (as Nest's adapter
    // registers every route) is kept in the route's config, which hooks leave alone, under a symbol of its own.
    // Nest's adapter wraps a route with parameters in a function of its own, without the controller method's metadata,
    // before it calls `route`: the handler Nest gave the adapter (its last argument to injectRouteOptions) is kept
    // instead, whose metadata tells the route's controller method even where Nest does not name it (Nest 12's deferred
    // registration: routeConflictPolicy, routeResolutionStrategy).
    let nestHandler: Function | undefined;
    const adapter = httpAdapter as unknown as { injectRouteOptions?: (...args: unknown[]) => unknown };
    const inject = adapter.injectRouteOptions;
    if (typeof inject === 'function') {
      adapter.injectRouteOptions = function injectKeepingNestHandler(this: unknown, ...args: unknown[]) {
        const last = args[args.length - 1];
        nestHandler = typeof last === 'function' ? last : undefined;
        try {
          return inject.apply(this, args);
        } finally {
          nestHandler = undefined;
        }
      };
    }
    const route = instance.route;
    instance.route = function routeKeepingItsHandler(this: unknown, options: FastifyRouteOptions) {
      const handler = nestHandler ?? options?.handler;
      const given = typeof handler === 'function' ? { ...options, config: { ...options.config, [GIVEN_HANDLER]: handler } } : options;
      return route.call(this, given);
    };
    instance.addHook('onRoute', (options) => {
      // The options object, read when the table is built: hooks that run after this one may change its url or method.
      this.records.push({ route: options, handler: (options.config?.[GIVEN_HANDLER] as Function | undefined) ?? options.handler });
    });
  }

  /**
   * Builds the route table from the routes Fastify has registered (at bootstrap, and again when Fastify is ready
   * if plugins added routes since). `routeOf` names the controller method of a route handler.
   */
  useRoutes(global: { name?: string } | undefined, routeOf: (handler: Function) => RouteMatch & { nest: boolean }): FastifyRoutes {
    this.routeOf = routeOf;
    const records = this.records.map(({ route, handler }): FastifyRouteRecord => ({ method: route.method, url: route.url, handler }));
    const matcher = new FastifyRoutes(records, pathOptionsOf(this.adapter?.getInstance().initialConfig ?? {}), routeOf);
    this.routes.use(matcher, global);
    this.built = this.records.length;
    this.global = global;
    return matcher;
  }

  private onReady(instance: FastifyInstanceLike): void {
    if (this.routeOf !== undefined && this.built !== this.records.length) this.useRoutes(this.global, this.routeOf);
    if (instance.hasRequestDecorator('corsPreflightEnabled')) {
      this.logger.warn(
        "app.enableCors() (or NestFactory.create(..., { cors }), or @fastify/cors) is active beside IdentityCorsModule. Its hook adds its own CORS headers to every request this library gives none (identity endpoints from origins they do not allow, @DisableCors routes) and answers their preflights. Remove enableCors() and express the same rules as a policy with the globalPolicy option.",
      );
    }
    const slot = (this.adapter as unknown as { onRequestHook?: RequestHook }).onRequestHook;
    if (slot !== this.hook && slot !== this.chained) {
      this.logger.error(
        "The FastifyAdapter's request hook (setOnRequestHook) was replaced after IdentityCorsModule took it: no request gets CORS headers. Set your hook before the app initializes (IdentityCorsModule then runs it after its own).",
      );
    }
  }

  /** This edge's hook, then the one that held the slot before: that one runs for every request this edge does not answer. */
  private chainedWith(previous: RequestHook): RequestHook {
    const adapter = this.adapter;
    this.chained = (request, reply, done) =>
      this.onRequest(request, reply, (error) => {
        if (error !== undefined) return done(error);
        const returned = previous.call(adapter, request, reply, done) as PromiseLike<unknown> | undefined;
        if (returned !== undefined && typeof returned?.then === 'function') returned.then(() => done(), done);
      });
    return this.chained;
  }

  private onRequest(request: FastifyRequestLike, reply: FastifyReplyLike, done: Done): void {
    // A preflight the HTTP-server listener took on, whose decision failed (logged there).
    if (reply.raw[STATE] === TAKEN) return done();
    const req = request.raw;
    const origin = req.headers.origin;
    // Whether an identity request comes from the server's own origin depends on its protocol, as Fastify reads it
    // (trustProxy): given to the identity layer on the rare request whose Origin names this host.
    if (origin !== undefined && mayBeSameOrigin(origin, req.headers.host)) req.protocol = request.protocol;
    // The reply is told (hijack) when the edge answers a preflight itself.
    this.handleRequest(req, reply.raw, done, reply);
  }

  /**
   * An actual request's decision goes into the reply's headers, with `Vary: Origin`: Fastify hands them to Node's
   * writeHead in one object. Written on Node's response instead, any one header sends that writeHead down its slow
   * path, which sets each of the reply's headers again (about a third of the library's cost per request, counted
   * with bench/layer-instructions.sh). The mark then finds them there and passes them on (carriesDecision).
   */
  protected override decided(res: NodeResponse, mark: typeof VARY_ON_ORIGIN | CorsResult, reply: FrameworkReply | undefined): void {
    if (reply === undefined) return super.decided(res, mark, reply);
    const headers = this.replyHeaders;
    headers.reply = reply as FastifyReplyLike;
    headers.own = this.ownHeadersOf(reply as FastifyReplyLike);
    try {
      if (mark !== VARY_ON_ORIGIN) this.cors.applyAccessControl(mark, headers);
      if (mark === VARY_ON_ORIGIN || mark.varyByOrigin) appendVary(headers, VARY_ORIGIN);
    } finally {
      headers.reply = undefined;
      headers.own = undefined;
    }
    this.mark(res, mark);
  }

  /** The object where Fastify keeps a reply's headers, if it can be found: a plain object under its own symbol. */
  private ownHeadersOf(reply: FastifyReplyLike): Record<string, unknown> | undefined {
    const key = (this.replyHeadersKey ??= plainObjectUnder(reply, 'fastify.reply.headers') ?? null);
    if (key === null) return undefined;
    const own = (reply as unknown as Record<symbol, unknown>)[key];
    return typeof own === 'object' && own !== null ? (own as Record<string, unknown>) : undefined;
  }

  /** Node's own writeHead gets the hook made once (a closure per response cost more than the rest of the hook). */
  protected override hookAlone(res: NodeResponse): void {
    const writeHead = res.writeHead;
    if (writeHead === writeHeadOfMarked) return;
    if (writeHead === nodeWriteHead) res.writeHead = writeHeadOfMarked;
    else super.hookAlone(res);
  }

  /** Fastify's responses are Node's own: the mark lives on the response. */
  protected holderOf(res: NodeResponse): MarkHolder {
    return res;
  }

  protected inheritsHook(): boolean {
    return false;
  }
}

/**
 * Whether the Fastify instance rewrites request URLs before routing (its `rewriteUrl` option), read from the options
 * Fastify keeps under its own symbol; undefined when they cannot be found (another Fastify version).
 */
function rewritesUrls(instance: object): boolean | undefined {
  const key = fastifySymbol(instance, 'fastify.options');
  const options = key === undefined ? undefined : (instance as Record<symbol, { rewriteUrl?: unknown } | undefined>)[key];
  return options === undefined ? undefined : typeof options.rewriteUrl === 'function';
}

/**
 * The symbol (by its description) under which an object of Fastify's keeps a plain object, as Fastify 5 keeps a reply's
 * headers: anything else (a Map, a class, a getter's copy) is not written into; the reply's own methods are used instead.
 */
function plainObjectUnder(object: object, description: string): symbol | undefined {
  const key = fastifySymbol(object, description);
  const value = key === undefined ? undefined : Object.getOwnPropertyDescriptor(object, key);
  if (value === undefined || !('value' in value) || typeof value.value !== 'object' || value.value === null) return undefined;
  const prototype = Object.getPrototypeOf(value.value);
  return prototype === Object.prototype || prototype === null ? key : undefined;
}

/** One of Fastify's own symbols on an object of its (an instance, a reply), by its description; not public API, so undefined when absent. */
function fastifySymbol(object: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(object).find((symbol) => symbol.description === description);
}
