// First: stops the process if the package's other build is already loaded (see single-build.ts).
import './single-build.js';
// Framework-free core
export { ANY, CorsPolicy, CorsPolicyError, type CorsPolicyInit, type IsOriginAllowed } from './core/cors-policy.js';
export { CorsPolicyBuilder, buildPolicy, type CorsPolicyDefinition } from './core/cors-policy.builder.js';
export {
  CorsService,
  CorsHeaders,
  appendVary,
  deniedResult,
  isPreflightRequest,
  varyFields,
  type CorsRequest,
  type CorsResponse,
  type CorsResult,
} from './core/cors.service.js';
export { InvalidOriginError, MAX_ORIGIN_LENGTH, NULL_ORIGIN, OriginPattern, normalizeOrigin, parseRequestOrigin } from './core/origin.js';
export { TimeoutError, withTimeout } from './core/with-timeout.js';

// Policy providers
export { ICorsPolicyProvider } from './providers/cors-policy-provider.interface.js';
export { DefaultCorsPolicyProvider } from './providers/default-cors-policy.provider.js';

// Identity layer
export { ICorsPolicyService } from './identity/cors-policy-service.interface.js';
export { DefaultCorsPolicyService, OriginSet, type DefaultCorsPolicyServiceOptions } from './identity/default-cors-policy.service.js';
export { type CorsClient, clientProblems, normalizeClient } from './identity/cors-client.interface.js';
export { InMemoryClientStore } from './identity/in-memory-client.store.js';
export { InMemoryCorsPolicyService } from './identity/in-memory-cors-policy.service.js';
export { IdentityCorsPolicyProvider, IDENTITY_EXPOSED_HEADERS, type IdentityCorsPolicyOptions } from './identity/identity-cors-policy.provider.js';
export { CorsPathSet, DEFAULT_CORS_PATHS, DEFAULT_CORS_POLICY_NAME } from './identity/cors-paths.js';

// Nest edge
export { IdentityCorsModule } from './nest/identity-cors.module.js';
export { MODULE_OPTIONS_TOKEN as IDENTITY_CORS_MODULE_OPTIONS, type IdentityCorsModuleExtras } from './nest/identity-cors.module-definition.js';
export type { IdentityCorsModuleOptions, IdentityCorsOptions, ProviderOverride } from './nest/identity-cors-options.interface.js';
export { IdentityCorsOptionsError, type ResolvedCorsOptions } from './nest/identity-cors-options.validation.js';
export { EnableCors, DisableCors, CORS_METADATA, type CorsMetadata } from './nest/cors.decorator.js';
export { CorsMiddleware } from './nest/cors.middleware.js';
export { useIdentityCors } from './nest/use-identity-cors.js';

// Decision cache and invalidation (database store: 'nest-identity-cors/typeorm'; Redis bus: 'nest-identity-cors/redis')
export { CachingCorsPolicyService, CorsCacheUnavailableError, DEFAULT_CORS_CACHE_MAX, DEFAULT_CORS_CACHE_TTL, type CachingCorsPolicyServiceOptions } from './cache/caching-cors-policy.service.js';
export { ICorsInvalidationBus, type CorsInvalidation } from './cache/cors-invalidation-bus.interface.js';
export { InProcessCorsInvalidationBus, defaultCorsInvalidationBus } from './cache/in-process-invalidation.bus.js';
