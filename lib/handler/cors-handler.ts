import type { IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import type { CorsPolicy } from '../core/cors-policy.js';
import { type CorsResult, CorsService, deniedResult } from '../core/cors.service.js';
import { isPromiseLike, type MaybePromise } from '../core/maybe-promise.js';
import { parseRequestOrigin } from '../core/origin.js';
import { withTimeout } from '../core/with-timeout.js';
import type { ICorsPolicyProvider } from '../policy-lookup/cors-policy-provider.interface.js';
import { LOG_CONTEXT } from './log-context.js';
import { policyLabel, type RouteTarget } from './route-target.js';

/** The answer for a request without Origin to a CORS route: not a CORS request, but its response varies on Origin (RULES 4, 8). */
export const NOT_CORS: CorsResult = Object.freeze(deniedResult(false));

/**
 * Decides one request, on any platform (ASP.NET Core's CorsMiddleware.Invoke): given its route target,
 * finds the policy through the provider chain and evaluates it; the platform's edge writes the result.
 *
 * While every step answers at once (built-in provider, listed origins and patterns) a decision costs no
 * Promise and no timer; the Promise and the policyTimeout timer start only at the first step that is
 * really asynchronous (ICorsPolicyService, a host provider, an async predicate). It never throws for a
 * failing policy: a failure is logged and denied (RULES 10).
 */
export class CorsHandler {
  private readonly logger = new Logger(LOG_CONTEXT);

  constructor(
    private readonly provider: ICorsPolicyProvider,
    private readonly cors: CorsService,
    private readonly policyTimeout: number,
  ) {}

  decide(req: IncomingMessage, path: string, target: RouteTarget, preflight: boolean): MaybePromise<CorsResult> {
    // Read once: req.headers is a getter that Express's request prototype puts out of reach of V8's caches.
    const requestOrigin = req.headers.origin;
    if (requestOrigin === undefined) return NOT_CORS;
    const origin = parseRequestOrigin(requestOrigin);
    if (origin === undefined) {
      this.logger.debug(`CORS request to ${path} denied: Origin ${JSON.stringify(String(requestOrigin).slice(0, 100))} is not a serialized origin`);
      return deniedResult(preflight);
    }
    try {
      const policy = this.provider.getPolicy(req, target.policyName);
      const result = isPromiseLike(policy) ? policy.then((resolved) => this.evaluate(req, resolved, origin, path, target, preflight)) : this.evaluate(req, policy, origin, path, target, preflight);
      if (!isPromiseLike(result)) return result;
      return withTimeout(result, this.policyTimeout, `The CORS decision for ${origin} (${policyLabel(target)})`).then(undefined, (error: unknown) =>
        this.policyFailed(origin, path, target, preflight, error),
      );
    } catch (error) {
      return this.policyFailed(origin, path, target, preflight, error);
    }
  }

  private evaluate(req: IncomingMessage, policy: CorsPolicy | undefined, origin: string, path: string, target: RouteTarget, preflight: boolean): MaybePromise<CorsResult> {
    if (!policy) return deniedResult(preflight);
    const result = this.cors.evaluateOrigin(req, policy, origin, preflight);
    if (isPromiseLike(result)) return result.then((decided) => this.logDenial(decided, origin, path, target));
    return this.logDenial(result, origin, path, target);
  }

  private logDenial(result: CorsResult, origin: string, path: string, target: RouteTarget): CorsResult {
    if (!result.isOriginAllowed) this.logger.debug(`CORS request from origin ${origin} to ${path} denied by ${policyLabel(target)}`);
    return result;
  }

  private policyFailed(origin: string, path: string, target: RouteTarget, preflight: boolean, error: unknown): CorsResult {
    this.logger.error(
      `CORS request from origin ${origin} to ${path} denied because ${policyLabel(target)} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    return deniedResult(preflight);
  }
}
