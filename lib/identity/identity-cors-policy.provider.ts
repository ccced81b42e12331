import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { CANARY_ORIGINS, CorsPolicy } from '../core/cors-policy.js';
import { Memo } from '../core/memo.js';
import { mayBeSameOrigin, NULL_ORIGIN, parseRequestOrigin, serverOrigin } from '../core/origin.js';
import type { ICorsPolicyProvider } from '../policy-lookup/cors-policy-provider.interface.js';
import type { ICorsPolicyService } from './cors-policy-service.interface.js';
import type { CorsPathSet } from './cors-paths.js';
import { requestPath } from '../core/request-path.js';
import type { CorsDenialReason } from '../core/denial-reason.js';
import { isPromiseLike, type MaybePromise } from '../core/maybe-promise.js';

/** Headers browsers' OIDC clients read from identity responses. */
export const IDENTITY_EXPOSED_HEADERS: readonly string[] = ['WWW-Authenticate', 'DPoP-Nonce'];

export interface IdentityCorsPolicyOptions {
  corsPolicyName: string;
  corsPaths: CorsPathSet;
  /** Seconds for Access-Control-Max-Age on identity preflights; none when undefined. */
  preflightCacheDuration?: number;
}

/**
 * Decorates the host's ICorsPolicyProvider, as IdentityServer's CorsPolicyProvider does: it answers
 * `corsPolicyName` for requests to `corsPaths` by asking ICorsPolicyService, and hands every other
 * policy name to the host's provider unchanged.
 */
export class IdentityCorsPolicyProvider implements ICorsPolicyProvider {
  // The identity policy depends on the origin alone; building it once per origin keeps the hot path light. Keyed by
  // parseRequestOrigin's answers, strings of their own (found by identity).
  private readonly policies = new Memo<CorsPolicy>(1024, true);

  constructor(
    private readonly options: IdentityCorsPolicyOptions,
    private readonly policyService: ICorsPolicyService,
    private readonly inner: ICorsPolicyProvider,
  ) {}

  /** The provider this one decorates, and the service it asks (given once, at construction). */
  get decorated(): { readonly inner: ICorsPolicyProvider; readonly policyService: ICorsPolicyService } {
    return { inner: this.inner, policyService: this.policyService };
  }

  /** Answers at once unless a step is asynchronous: ICorsPolicyService, or a host provider that returns a Promise. */
  getPolicy(request: IncomingMessage, policyName?: string): MaybePromise<CorsPolicy | undefined> {
    if (policyName !== this.options.corsPolicyName) return this.inner.getPolicy(request, policyName);
    const answer = this.decide(request);
    return isPromiseLike(answer) ? answer.then(policyOf) : policyOf(answer);
  }

  /**
   * The identity policy for a request to an identity path, or why there is none: what getPolicy answers,
   * with the reason it would drop. The CORS handler asks this directly, so that a denial is logged (and
   * explained) with its reason, once (RULES 21).
   */
  decide(request: IncomingMessage): MaybePromise<CorsPolicy | IdentityDenial> {
    const path = requestPath(request);
    if (path === undefined || !this.options.corsPaths.has(path)) return 'no-policy';
    const origin = parseRequestOrigin(request.headers.origin);
    if (origin === undefined) return 'origin-invalid';
    return this.decideOrigin(request, origin);
  }

  /**
   * decide, for a caller that knows the request is to an identity path and has parsed its Origin (the handler:
   * its route table found the path, and it parsed the origin already).
   */
  decideOrigin(request: IncomingMessage, origin: string): MaybePromise<CorsPolicy | IdentityDenial> {
    // The host names compare first: reading Express's req.protocol costs more than the rest of this check.
    if (mayBeSameOrigin(origin, request.headers.host) && origin === serverOrigin(protocolOf(request), request.headers.host)) return 'server-origin';
    if (origin === NULL_ORIGIN) return this.decideOpaque();
    const allowed = this.policyService.isOriginAllowed(origin);
    if (!isPromiseLike(allowed)) return allowed ? this.identityPolicy(origin) : 'service-denied';
    return allowed.then((isAllowed) => (isAllowed ? this.identityPolicy(origin) : 'service-denied'));
  }

  /**
   * `null`, the opaque origin of sandboxed frames and `file:` pages, is allowed only where it is listed (RULES 2): not
   * by a service that allows an origin no site uses too, which allows every origin (as `allowAll`, which never allows
   * `null`). Both are asked at once.
   */
  private decideOpaque(): MaybePromise<CorsPolicy | IdentityDenial> {
    const listed = this.policyService.isOriginAllowed(NULL_ORIGIN);
    if (listed === false) return 'service-denied';
    const anyOrigin = CANARY_ORIGINS.map((origin) => this.policyService.isOriginAllowed(origin));
    const decide = (isListed: boolean, allowsAny: boolean[]) => (!isListed ? 'service-denied' : allowsAny.some(Boolean) ? 'null-not-listed' : this.identityPolicy(NULL_ORIGIN));
    if (!isPromiseLike(listed) && !anyOrigin.some(isPromiseLike)) return decide(listed, anyOrigin as boolean[]);
    return Promise.all([listed, Promise.all(anyOrigin)]).then(([isListed, allowsAny]) => decide(isListed, allowsAny));
  }

  private identityPolicy(origin: string): CorsPolicy {
    let policy = this.policies.get(origin);
    if (!policy) {
      policy = new CorsPolicy({
        origins: [origin],
        methods: ['*'],
        headers: ['*'],
        exposedHeaders: IDENTITY_EXPOSED_HEADERS,
        preflightMaxAge: this.options.preflightCacheDuration,
      });
      this.policies.set(origin, policy);
    }
    return policy;
  }
}

/** Why the identity layer gives a request no policy. */
export type IdentityDenial = Extract<CorsDenialReason, 'no-policy' | 'origin-invalid' | 'server-origin' | 'service-denied' | 'null-not-listed'>;

function policyOf(answer: CorsPolicy | IdentityDenial): CorsPolicy | undefined {
  return typeof answer === 'string' ? undefined : answer;
}

/** Express sets `protocol` (honouring `trust proxy`); a bare Node request is judged by its socket. */
function protocolOf(request: IncomingMessage): string {
  const protocol = (request as IncomingMessage & { protocol?: unknown }).protocol;
  if (typeof protocol === 'string') return protocol;
  return (request.socket as TLSSocket | undefined)?.encrypted ? 'https' : 'http';
}
