import { SetMetadata } from '@nestjs/common';

export const CORS_METADATA = 'nest-identity-cors:cors';

/** What a controller or handler says about CORS: a policy (by name; none = the default policy) or none at all. */
export type CorsMetadata = { enabled: true; policyName?: string } | { enabled: false };

/**
 * Applies a named policy (or, without a name, the default policy) to a controller or handler,
 * preflights included. On both, the handler's decorator wins.
 */
export const EnableCors = (policyName?: string): ClassDecorator & MethodDecorator => {
  if (policyName !== undefined && (typeof policyName !== 'string' || policyName === '')) {
    throw new TypeError(`@EnableCors(${JSON.stringify(policyName)}): the policy name must be a non-empty string, or omitted for the default policy`);
  }
  return SetMetadata<string, CorsMetadata>(CORS_METADATA, { enabled: true, policyName });
};

/** Turns CORS off for a controller or handler, even under a global policy: no CORS headers, preflights not answered. */
export const DisableCors = (): ClassDecorator & MethodDecorator => SetMetadata<string, CorsMetadata>(CORS_METADATA, { enabled: false });
