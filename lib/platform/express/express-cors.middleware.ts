/**
 * The Express edge: the one door behind which Express's speed tricks live (the HTTP-server listener, the
 * res.locals mark, the writeHead hook on Express's response prototype), each measured; docs/internals.md says
 * what each bought. What every platform does with Node's request and response is NodeCorsEdge's; the decision, CorsHandler's.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { NestMiddleware } from '@nestjs/common';
import type { HttpServer } from '@nestjs/common';
import type { CorsService } from '../../core/cors.service.js';
import { requestPath } from '../../core/request-path.js';
import type { CorsHandler } from '../../handler/cors-handler.js';
import type { CorsRouteTable } from '../../handler/cors-route-table.js';
import type { PolicyTarget } from '../../handler/route-target.js';
import { HOOKED, hookWriteHead, leftToFramework, type MarkHolder, NodeCorsEdge, type NodeResponse, STATE, TAKEN } from '../node-cors-edge.js';

type Request = IncomingMessage;
type Response = NodeResponse & { locals?: MarkHolder };
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
export class ExpressCorsMiddleware extends NodeCorsEdge implements NestMiddleware {
  private mounted = false;
  /** The Express app's response prototype, once its writeHead keeps Vary: its responses need no hook of their own. */
  private hookedPrototype: object | undefined;
  /** True when the HTTP-server listener hands every request to Express alone, whose responses inherit the hook. */
  private expressServesAll = false;

  constructor(
    handler: CorsHandler,
    cors: CorsService,
    routes: CorsRouteTable,
    private readonly handleBeforeExpress: boolean,
  ) {
    super(handler, cors, routes);
  }

  /**
   * Mounts this middleware once on the HTTP server for every path, and (handleBeforeExpress, the
   * default) handles CORS on the HTTP server itself; later calls do nothing. A second
   * IdentityCorsModule in the same app is a startup error: each would decorate the other's provider.
   */
  mountOn(httpAdapter: HttpServer): void {
    if (this.mounted) return;
    const instance = httpAdapter.getInstance?.() as object | undefined;
    this.claim(instance);
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
    return target !== null && leftToFramework(target, origin, headers.host) ? undefined : target;
  }

  use(req: Request, res: Response, next: (error?: unknown) => void): void {
    // Taken on by the HTTP-server listener already.
    if (holderOf(res)[STATE] !== undefined) return next();
    this.handleRequest(req, res, next);
  }

  protected holderOf(res: Response): MarkHolder {
    return holderOf(res);
  }

  protected inheritsHook(res: Response, holder: MarkHolder): boolean {
    // Taken on by the HTTP-server listener: Express, its only listener, gives the response the hooked prototype next.
    return (holder[STATE] === TAKEN && this.expressServesAll) || Object.getPrototypeOf(res) === this.hookedPrototype;
  }
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
    hookWriteHead(proto as { writeHead: ServerResponse['writeHead'] }, holderOf);
    proto[HOOKED] = true;
  }
  return proto;
}
