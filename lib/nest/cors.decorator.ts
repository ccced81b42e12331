import { SetMetadata } from '@nestjs/common';
import type { CorsMetadata } from '../handler/route-target.js';

export const CORS_METADATA = 'nest-identity-cors:cors';


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
