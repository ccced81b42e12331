import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { CorsPolicy } from '../core/cors-policy.js';
import { mayBeSameOrigin, parseRequestOrigin, serverOrigin } from '../core/origin.js';
import type { ICorsPolicyProvider } from '../providers/cors-policy-provider.interface.js';
import type { ICorsPolicyService } from './cors-policy-service.interface.js';
import type { CorsPathSet } from './cors-paths.js';
import { requestPath } from '../core/request-path.js';
import { noteDenial } from '../core/log-limiter.js';
import { isPromiseLike, type MaybePromise } from '../core/maybe-promise.js';
import { resolvePolicy } from '../providers/resolve-policy.js';
import { callPreferringSync, declareSyncTwin } from '../core/sync-twin.js';

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
  // The identity policy depends on the origin alone; building it once per origin keeps the hot path light.
  private readonly policies = new LRUCache<string, CorsPolicy>({ max: 1024 });

  constructor(
    private readonly options: IdentityCorsPolicyOptions,
    private policyService: ICorsPolicyService,
    private inner: ICorsPolicyProvider,
  ) {}

  get corsPolicyName(): string {
    return this.options.corsPolicyName;
  }

  /** The provider this one decorates, and the service it asks (both may be replaced at bootstrap). */
  get decorated(): { inner: ICorsPolicyProvider; policyService: ICorsPolicyService } {
    return { inner: this.inner, policyService: this.policyService };
  }

  use(services: { inner?: ICorsPolicyProvider; policyService?: ICorsPolicyService }): void {
    this.inner = services.inner ?? this.inner;
    this.policyService = services.policyService ?? this.policyService;
  }

  isCorsPath(request: IncomingMessage): boolean {
    const path = requestPath(request);
    return path !== undefined && this.options.corsPaths.has(path);
  }

  async getPolicy(request: IncomingMessage, policyName?: string): Promise<CorsPolicy | undefined> {
    return this.resolvePolicy(request, policyName);
  }

  /** getPolicy without a Promise unless a step is asynchronous: ICorsPolicyService, or a host provider that returns one. */
  resolvePolicy(request: IncomingMessage, policyName?: string): MaybePromise<CorsPolicy | undefined> {
    if (policyName !== this.options.corsPolicyName) return resolvePolicy(this.inner, request, policyName);

    const path = requestPath(request);
    // Denials are logged once, by the middleware, with the reason noted here (RULES 17).
    if (path === undefined || !this.options.corsPaths.has(path)) return undefined;
    const origin = parseRequestOrigin(request.headers.origin);
    if (origin === undefined) return undefined;
    // The host names compare first: reading Express's req.protocol costs more than the rest of this check.
    if (mayBeSameOrigin(origin, request.headers.host) && origin === serverOrigin(protocolOf(request), request.headers.host)) {
      noteDenial(request, 'server-origin');
      return undefined;
    }
    const allowed = callPreferringSync<MaybePromise<boolean>>(this.policyService, 'isOriginAllowed', origin);
    if (!isPromiseLike(allowed)) return this.policyFor(request, origin, allowed);
    return allowed.then((isAllowed) => this.policyFor(request, origin, isAllowed));
  }

  private policyFor(request: IncomingMessage, origin: string, allowed: boolean): CorsPolicy | undefined {
    if (allowed) return this.identityPolicy(origin);
    noteDenial(request, 'service-denied');
    return undefined;
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

declareSyncTwin(IdentityCorsPolicyProvider.prototype.getPolicy, 'resolvePolicy');

/** Express sets `protocol` (honouring `trust proxy`); a bare Node request is judged by its socket. */
function protocolOf(request: IncomingMessage): string {
  const protocol = (request as IncomingMessage & { protocol?: unknown }).protocol;
  if (typeof protocol === 'string') return protocol;
  return (request.socket as TLSSocket | undefined)?.encrypted ? 'https' : 'http';
}
