// The public API: what an app calls. Internals (the middleware, helpers of the core) are not exported;
// tests reach them by path.
// First: stops the process if the package's other build is already loaded (see single-build.ts).
import './single-build.js';

// Policies: data, built with the builder, evaluated by CorsService
export { CorsPolicy, CorsPolicyError, type CorsPolicyInit, type IsOriginAllowed } from './core/cors-policy.js';
export { CorsPolicyBuilder, type CorsPolicyDefinition } from './core/cors-policy.builder.js';
export { CorsService, type CorsRequest, type CorsResponse, type CorsResult } from './core/cors.service.js';
export { InvalidOriginError } from './core/origin.js';

// Policy lookup by name
export { ICorsPolicyProvider } from './policy-lookup/cors-policy-provider.interface.js';
export { DefaultCorsPolicyProvider } from './policy-lookup/default-cors-policy.provider.js';

// Identity layer
export { ICorsPolicyService } from './identity/cors-policy-service.interface.js';
export { DefaultCorsPolicyService, OriginSet, type DefaultCorsPolicyServiceOptions } from './identity/default-cors-policy.service.js';
export type { CorsClient } from './identity/cors-client.interface.js';
export { InMemoryClientStore } from './identity/in-memory-client.store.js';
export { InMemoryCorsPolicyService } from './identity/in-memory-cors-policy.service.js';
export { DEFAULT_CORS_PATHS, DEFAULT_CORS_POLICY_NAME } from './identity/cors-paths.js';

// Nest module, decorators and options
export { IdentityCorsModule } from './nest/identity-cors.module.js';
export type { IdentityCorsModuleExtras } from './nest/identity-cors.module-definition.js';
export type { IdentityCorsModuleOptions, IdentityCorsOptions, ProviderOverride } from './nest/identity-cors-options.interface.js';
export { IdentityCorsOptionsError } from './nest/identity-cors-options.validation.js';
export { EnableCors, DisableCors } from './nest/cors.decorator.js';
export { useIdentityCors } from './nest/use-identity-cors.js';

// Explaining a decision without sending a request (the same code decides real requests)
export {
  CorsExplainer,
  type CorsExplainRequest,
  type CorsExplanation,
  type CorsExplanationReason,
  type CorsPolicySource,
  type CorsPolicySummary,
} from './handler/cors-explainer.js';
export type { CorsDenialReason } from './core/denial-reason.js';

// Decision cache and invalidation (database store: 'nest-identity-cors/typeorm'; Redis bus: 'nest-identity-cors/redis')
export { CachingCorsPolicyService, CorsCacheUnavailableError, type CachingCorsPolicyServiceOptions } from './cache/caching-cors-policy.service.js';
export { ICorsInvalidationBus, type CorsInvalidation } from './cache/cors-invalidation-bus.interface.js';
export { InProcessCorsInvalidationBus } from './cache/in-process-invalidation.bus.js';
