/** Validated, built options (see resolveOptions). */
export const RESOLVED_CORS_OPTIONS = Symbol('RESOLVED_CORS_OPTIONS');
/** The host's policy provider (or the default named-policy provider) that the identity provider decorates. */
export const HOST_CORS_POLICY_PROVIDER = Symbol('HOST_CORS_POLICY_PROVIDER');
/** Which overrides were given to forRoot/forRootAsync (CorsModuleOverrides). */
export const CORS_MODULE_OVERRIDES = Symbol('CORS_MODULE_OVERRIDES');
/** What the identity provider is built with, the module's own services or a host module's (HostServices). */
export const IDENTITY_CORS_HOST_SERVICES = Symbol('IdentityCorsHostServices');
