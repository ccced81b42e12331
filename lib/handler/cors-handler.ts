import type { IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import type { CorsPolicy } from '../core/cors-policy.js';
import { answersAnyOrigin, type CorsResult, CorsService, deniedResult } from '../core/cors.service.js';
import { type CorsDenialReason, DENIAL_TEXT } from '../core/denial-reason.js';
import { isPromiseLike, type MaybePromise } from '../core/maybe-promise.js';
import { parseRequestOrigin } from '../core/origin.js';
import { TimeoutError, withTimeout } from '../core/with-timeout.js';
import { IdentityCorsPolicyProvider, type IdentityDenial } from '../identity/identity-cors-policy.provider.js';
import type { ICorsPolicyProvider } from '../policy-lookup/cors-policy-provider.interface.js';
import { LogLimiter } from './log-limiter.js';
import { LOG_CONTEXT } from './log-context.js';
import { policyLabel, type RouteTarget } from './route-target.js';

/** What the handler found while deciding one request, for a caller that asks (the explainer); real requests pass none. */
export interface DecisionTrace {
  /** The policy the provider gave, if any. */
  policy?: CorsPolicy;
  /** Why the request got no allow headers; undefined when it was allowed. */
  reason?: CorsDenialReason;
  /** The error of a failing policy (reason 'policy-failed'). */
  error?: string;
  /** The failing policy did not answer within policyTimeout. */
  timedOut?: boolean;
}

/**
 * Decides one request, on any platform (ASP.NET Core's CorsMiddleware.Invoke): given its route target and
 * its Origin header, finds the policy through the provider chain and evaluates it; the platform's edge
 * writes the result. Each denial is logged once with its reason, bounded under a flood (RULES 21).
 *
 * While every step answers at once (built-in provider, listed origins and patterns) a decision costs no
 * Promise and no timer; the Promise and the policyTimeout timer start only at the first step that is
 * really asynchronous (ICorsPolicyService, a host provider, an async predicate). It never throws for a
 * failing policy: a failure is logged and denied (RULES 10).
 */
export class CorsHandler {
  /** Denials and failures, bounded under a flood (RULES 21); its clock replaceable by tests. */
  readonly logs = new LogLimiter(new Logger(LOG_CONTEXT));
  /** The identity layer, asked directly on identity paths so that its denials keep their reason. */
  private readonly identity: IdentityCorsPolicyProvider | undefined;

  constructor(
    private readonly provider: ICorsPolicyProvider,
    private readonly cors: CorsService,
    private readonly policyTimeout: number,
  ) {
    this.identity = provider instanceof IdentityCorsPolicyProvider ? provider : undefined;
  }

  /** The result for a request with this Origin header to a CORS route; `trace`, when given, learns why. */
  decide(req: IncomingMessage, requestOrigin: string, path: string, target: RouteTarget, preflight: boolean, trace?: DecisionTrace): MaybePromise<CorsResult> {
    const origin = parseRequestOrigin(requestOrigin);
    // An identity policy lists exact origins: what is not one is denied without asking ICorsPolicyService (RULES 3).
    // Other policies are looked up: an any-origin one answers `*` whatever the Origin says (RULES 20).
    if (origin === undefined && target.kind === 'identity') return this.denied('origin-invalid', requestOrigin, path, target, preflight, trace);
    try {
      // On an identity target the origin parsed (an invalid one was denied above).
      const policy = target.kind === 'identity' && this.identity !== undefined ? this.identity.decideOrigin(req, origin!) : this.provider.getPolicy(req, target.policyName);
      const result = isPromiseLike(policy)
        ? policy.then((resolved) => this.evaluate(req, resolved, origin, requestOrigin, path, target, preflight, trace))
        : this.evaluate(req, policy, origin, requestOrigin, path, target, preflight, trace);
      if (!isPromiseLike(result)) {
        // The success path's only logging work: one field read while no policy is failing. An explanation
        // (a trace) is not a request: it neither ends nor starts an outage.
        if (this.logs.failing !== 0 && trace === undefined) this.logs.succeeded(sourceOf(target), policyLabel(target));
        return result;
      }
      return withTimeout(result, this.policyTimeout, `The CORS decision for ${origin ?? 'an invalid Origin'} (${policyLabel(target)})`).then(
        (decided) => {
          if (this.logs.failing !== 0 && trace === undefined) this.logs.succeeded(sourceOf(target), policyLabel(target));
          return decided;
        },
        (error: unknown) => this.policyFailed(requestOrigin, path, target, preflight, error, trace),
      );
    } catch (error) {
      return this.policyFailed(requestOrigin, path, target, preflight, error, trace);
    }
  }

  private evaluate(
    req: IncomingMessage,
    answer: CorsPolicy | IdentityDenial | undefined,
    origin: string | undefined,
    requestOrigin: string,
    path: string,
    target: RouteTarget,
    preflight: boolean,
    trace: DecisionTrace | undefined,
  ): MaybePromise<CorsResult> {
    // The identity layer says why it declines (server's own origin, ICorsPolicyService's no); another provider cannot.
    if (answer === undefined || typeof answer === 'string') return this.denied(answer ?? 'no-policy', requestOrigin, path, target, preflight, trace);
    if (trace) trace.policy = answer;
    if (origin === undefined && !answersAnyOrigin(answer)) return this.denied('origin-invalid', requestOrigin, path, target, preflight, trace);
    // An any-origin policy answers `*` whatever the origin, so an unparsed value is evaluated but never reflected;
    // its denials (a malformed preflight) are logged and explained as any other's.
    const evaluated = origin ?? requestOrigin;
    // Shared: the edges and the explainer only read the result.
    const result = this.cors.evaluateOrigin(req, answer, evaluated, preflight, true);
    if (isPromiseLike(result)) return result.then((decided) => this.checkDenied(decided, evaluated, path, target, trace));
    return this.checkDenied(result, evaluated, path, target, trace);
  }

  private checkDenied(result: CorsResult, origin: string, path: string, target: RouteTarget, trace: DecisionTrace | undefined): CorsResult {
    // A malformed preflight's denial varies on its Access-Control-Request-* headers; an origin's does not.
    if (!result.isOriginAllowed) this.logDenial(result.varyByRequestMethod ? 'preflight-invalid' : 'origin-not-allowed', origin, path, target, trace);
    return result;
  }

  /** A denial, logged: exactly one (rate-limited) debug line per denied request (RULES 13, 21). */
  private denied(reason: CorsDenialReason, requestOrigin: string, path: string, target: RouteTarget, preflight: boolean, trace: DecisionTrace | undefined): CorsResult {
    this.logDenial(reason, requestOrigin, path, target, trace);
    return deniedResult(preflight);
  }

  private logDenial(reason: CorsDenialReason, requestOrigin: string, path: string, target: RouteTarget, trace: DecisionTrace | undefined): void {
    // An explanation is not a request: it learns the reason instead of logging a denial.
    if (trace) {
      trace.reason = reason;
      return;
    }
    // The cause is the reason and the policy (a bounded set); the origin and path are only its example.
    this.logs.limited('debug', `${reason} ${sourceOf(target)}`, () => `CORS request denied (${reason}, ${policyLabel(target)}): ${DENIAL_TEXT[reason]}; e.g. ${example(requestOrigin, path)}`);
  }

  private policyFailed(requestOrigin: string, path: string, target: RouteTarget, preflight: boolean, error: unknown, trace: DecisionTrace | undefined): CorsResult {
    const message = error instanceof Error ? error.message : String(error);
    if (trace) {
      trace.reason = 'policy-failed';
      trace.error = message;
      trace.timedOut = error instanceof TimeoutError;
      return deniedResult(preflight);
    }
    const origin = parseRequestOrigin(requestOrigin) ?? JSON.stringify(String(requestOrigin).slice(0, 100));
    this.logs.failed(sourceOf(target), policyLabel(target), message, `CORS request from origin ${origin} to ${String(path).slice(0, 200)}`);
    return deniedResult(preflight);
  }
}

/** A request as a log example: its origin and path, quoted and bounded (attackers choose both). */
function example(requestOrigin: string, path: string): string {
  return `Origin ${JSON.stringify(String(requestOrigin).slice(0, 100))} to ${JSON.stringify(String(path).slice(0, 200))}`;
}

/** A policy target's key among the limiter's causes: its name (bounded by the app's policies). */
function sourceOf(target: RouteTarget): string {
  return target.policyName ?? '';
}
