import type { InjectionToken, OptionalFactoryDependency, Type } from '@nestjs/common';
import type { CorsPolicyDefinition } from '../core/cors-policy.builder.js';
import type { CorsClient } from '../identity/cors-client.interface.js';

export interface IdentityCorsOptions {
  /** Request paths of the identity endpoints (compared as the router compares paths). Default: the five of IdentityServer. */
  corsPaths?: string[];
  /** The policy name the identity layer answers. Default `'IdentityServer'`. */
  corsPolicyName?: string;
  /** Seconds browsers may cache identity preflights (`Access-Control-Max-Age`). Default: not sent. */
  preflightCacheDuration?: number;
  /** In-memory clients; when given, an origin is allowed if any enabled client lists it. */
  clients?: CorsClient[];
  /** Fixed allow-list for DefaultCorsPolicyService (used when no clients are configured). */
  allowedOrigins?: string[];
  /** Allow every origin on the identity endpoints (DefaultCorsPolicyService). Logs a warning; use with caution. */
  allowAll?: boolean;
}

export interface IdentityCorsModuleOptions {
  /** Named host policies: a CorsPolicy or a builder callback `(b) => b.withOrigins(...)`. */
  policies?: Record<string, CorsPolicyDefinition>;
  /** The policy of `@EnableCors()` without a name: a definition, or the name of one of `policies`. */
  defaultPolicy?: CorsPolicyDefinition | string;
  /**
   * Applies one policy to every request whose route has no CORS decorator (ASP.NET Core's
   * `app.UseCors("name")`): a policy name, or `true` for the default policy.
   */
  globalPolicy?: string | true;
  /** Longest a CORS decision (provider, ICorsPolicyService, predicates) may take, in ms, before the request is denied. Default 5000. */
  policyTimeout?: number;
  /**
   * Handle CORS on the HTTP server itself, before Express sets up the request: answer preflights of CORS
   * routes there (as `NestFactory.create(..., { cors })` answers them before your own middleware) and write
   * actual requests' headers there. Default true. `false` does both in the CORS middleware, in Express's
   * order, so middleware mounted before it runs first. On Fastify: preflights of CORS routes are answered on the
   * HTTP server, before Fastify sets up the request; `false` answers them in the FastifyAdapter's request hook.
   */
  handleBeforeExpress?: boolean;
  identity?: IdentityCorsOptions;
}

/** How a host supplies its own service or provider: a class, a factory, an existing provider, or a value. */
export type ProviderOverride<T> =
  | Type<T>
  | { useClass: Type<T> }
  | { useFactory: (...args: any[]) => T | Promise<T>; inject?: Array<InjectionToken | OptionalFactoryDependency> }
  | { useExisting: InjectionToken }
  | { useValue: T };
