import type { IncomingMessage } from 'node:http';
import type { CorsPolicy } from '../core/cors-policy.js';
import type { MaybePromise } from '../core/maybe-promise.js';
import { callPreferringSync } from '../core/sync-twin.js';
import type { ICorsPolicyProvider } from './cors-policy-provider.interface.js';

/**
 * The provider's answer, synchronously when it is a built-in provider whose getPolicy has not been
 * replaced: then getPolicy is known to be its resolvePolicy in a Promise (see sync-twin.ts).
 * Any other provider is asked through getPolicy, its contract.
 */
export function resolvePolicy(provider: ICorsPolicyProvider, request: IncomingMessage, policyName?: string): MaybePromise<CorsPolicy | undefined> {
  return callPreferringSync<MaybePromise<CorsPolicy | undefined>>(provider, 'getPolicy', request, policyName);
}
