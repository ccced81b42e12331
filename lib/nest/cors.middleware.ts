import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { HttpServer } from '@nestjs/common';
import { type CorsResult, CorsService, deniedResult, isPreflightRequest, varyFields, appendVary } from '../core/cors.service.js';
import { parseRequestOrigin } from '../core/origin.js';
import { requestPath } from '../core/request-path.js';
import { withTimeout } from '../core/with-timeout.js';
import { ICorsPolicyProvider } from '../providers/cors-policy-provider.interface.js';
import { CorsRouteTable, type PolicyTarget } from './cors-route-table.js';
import { RESOLVED_CORS_OPTIONS } from './identity-cors.constants.js';
import type { ResolvedCorsOptions } from './identity-cors-options.validation.js';

const HANDLED = Symbol('nest-identity-cors:handled');
const VARY_ON_WRITE = Symbol('nest-identity-cors:vary');

type Request = IncomingMessage & { [HANDLED]?: true };
type Response = ServerResponse & { [VARY_ON_WRITE]?: string[] };

/**
 * The thin Nest edge: finds the request's policy (identity path, route metadata, or global policy),
 * asks the provider chain for it, lets CorsService evaluate and apply it, and answers preflights
 * with 204 before routing, so guards and handlers never see them.
 */
@Injectable()
export class CorsMiddleware implements NestMiddleware {
  private readonly logger = new Logger('IdentityCors');
  private mounted = false;

  constructor(
    @Inject(RESOLVED_CORS_OPTIONS) private readonly options: ResolvedCorsOptions,
    @Inject(ICorsPolicyProvider) private readonly provider: ICorsPolicyProvider,
    private readonly cors: CorsService,
    private readonly routes: CorsRouteTable,
  ) {}

  /** Mounts this middleware once on the HTTP server for every path; later calls do nothing. */
  mountOn(httpAdapter: HttpServer): void {
    if (this.mounted) return;
    this.mounted = true;
    httpAdapter.use((req: Request, res: Response, next: () => void) => this.use(req, res, next));
  }

  use(req: Request, res: Response, next: (error?: unknown) => void): void {
    if (req[HANDLED]) return next();
    req[HANDLED] = true;
    this.handle(req, res).then(
      (answered) => answered || next(),
      (error: unknown) => {
        this.logger.error(`CORS handling failed for ${req.method} ${requestPath(req)}; no CORS headers sent`, error instanceof Error ? error.stack : String(error));
        next();
      },
    );
  }

  /** Resolves true when it has answered the request (a preflight). */
  private async handle(req: Request, res: Response): Promise<boolean> {
    const preflight = isPreflightRequest(req);
    const method = preflight ? String(req.headers['access-control-request-method']) : (req.method ?? 'GET');
    const target = this.targetOf(method, requestPath(req));
    if (target === null) return false;

    if (req.headers.origin === undefined) {
      // Not a CORS request, but the response of a CORS route depends on the origin's presence.
      keepVary(res, ['Origin']);
      return false;
    }
    const result = await this.decide(req, target, preflight);
    this.cors.applyResult(result, res);
    keepVary(res, varyFields(result));
    if (preflight) {
      res.statusCode = 204;
      res.setHeader('Content-Length', '0');
      res.end();
      return true;
    }
    return false;
  }

  private targetOf(method: string, path: string): PolicyTarget {
    if (this.options.identity.corsPaths.has(path)) return { policyName: this.options.identity.corsPolicyName };
    return this.routes.resolve(method, path);
  }

  private async decide(req: Request, target: NonNullable<PolicyTarget>, preflight: boolean): Promise<CorsResult> {
    const origin = parseRequestOrigin(req.headers.origin);
    if (origin === undefined) {
      this.logger.debug(`CORS request to ${requestPath(req)} denied: Origin ${JSON.stringify(String(req.headers.origin).slice(0, 100))} is not a serialized origin`);
      return deniedResult(preflight);
    }
    const policyLabel = target.policyName === undefined ? 'the default policy' : `policy '${target.policyName}'`;
    try {
      return await withTimeout(
        (async () => {
          const policy = await this.provider.getPolicy(req, target.policyName);
          if (!policy) return deniedResult(preflight);
          const result = await this.cors.evaluatePolicy(req, policy);
          if (!result.isOriginAllowed) this.logger.debug(`CORS request from origin ${origin} to ${requestPath(req)} denied by ${policyLabel}`);
          return result;
        })(),
        this.options.policyTimeout,
        `The CORS decision for ${origin} (${policyLabel})`,
      );
    } catch (error) {
      this.logger.error(
        `CORS request from origin ${origin} to ${requestPath(req)} denied because ${policyLabel} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return deniedResult(preflight);
    }
  }
}

/**
 * Appends `fields` to Vary now, and again just before the headers are written, so an app that sets
 * its own `Vary` later (with setHeader, which replaces) still ends up with both (RULES 8).
 */
function keepVary(res: Response, fields: string[]): void {
  if (fields.length === 0) return;
  appendVary(res, fields);
  if (res[VARY_ON_WRITE]) {
    res[VARY_ON_WRITE].push(...fields);
    return;
  }
  res[VARY_ON_WRITE] = [...fields];
  const writeHead = res.writeHead;
  res.writeHead = function (this: Response, ...args: unknown[]) {
    if (!this.headersSent) appendVary(this, this[VARY_ON_WRITE] ?? []);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
}
