import type { IncomingMessage } from 'node:http';
import type { CorsPolicy } from '../core/cors-policy.js';
import type { MaybePromise } from '../core/maybe-promise.js';
import type { ICorsPolicyProvider } from './cors-policy-provider.interface.js';

/** Serves the named policies and the default policy given in module options. */
export class DefaultCorsPolicyProvider implements ICorsPolicyProvider {
  constructor(
    private readonly policies: ReadonlyMap<string, CorsPolicy>,
    private readonly defaultPolicy?: CorsPolicy,
  ) {}

  /** Answers at once: the policies are in memory. (Declared as the contract, so a subclass may answer in a Promise.) */
  getPolicy(_request: IncomingMessage, policyName?: string): MaybePromise<CorsPolicy | undefined> {
    return policyName === undefined ? this.defaultPolicy : this.policies.get(policyName);
  }

  /** Whether getPolicy can answer this name (undefined: the default policy). */
  hasPolicy(policyName?: string): boolean {
    return policyName === undefined ? this.defaultPolicy !== undefined : this.policies.has(policyName);
  }
}
