import type { IncomingMessage } from 'node:http';
import type { CorsPolicy } from '../core/cors-policy.js';
import type { MaybePromise } from '../core/maybe-promise.js';
import type { ICorsPolicyProvider } from './cors-policy-provider.interface.js';

/** A provider that can also answer without a Promise when none of its steps is asynchronous. */
export interface PolicyResolver extends ICorsPolicyProvider {
  resolvePolicy(request: IncomingMessage, policyName?: string): MaybePromise<CorsPolicy | undefined>;
}

// The built-in getPolicy methods, each only a Promise around its class's resolvePolicy.
const wrappingGetPolicies = new WeakSet<Function>();

/** Declares that `getPolicy` (a class's own method) answers exactly what its resolvePolicy answers. */
export function getPolicyWrapsResolvePolicy(getPolicy: Function): void {
  wrappingGetPolicies.add(getPolicy);
}

/**
 * The provider's answer, synchronously when it is a built-in provider whose getPolicy has not been
 * replaced (by a subclass or a spy): then getPolicy is known to be resolvePolicy in a Promise.
 * Any other provider is asked through getPolicy, its contract.
 */
export function resolvePolicy(provider: ICorsPolicyProvider, request: IncomingMessage, policyName?: string): MaybePromise<CorsPolicy | undefined> {
  if (wrappingGetPolicies.has(provider.getPolicy)) return (provider as PolicyResolver).resolvePolicy(request, policyName);
  return provider.getPolicy(request, policyName);
}
