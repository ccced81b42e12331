import type { IncomingMessage } from 'node:http';
import type { CorsPolicy } from '../core/cors-policy.js';
import type { ICorsPolicyProvider } from './cors-policy-provider.interface.js';
import { declareSyncTwin } from '../core/sync-twin.js';

/** Serves the named policies and the default policy given in module options. */
export class DefaultCorsPolicyProvider implements ICorsPolicyProvider {
  constructor(
    private readonly policies: ReadonlyMap<string, CorsPolicy>,
    private readonly defaultPolicy?: CorsPolicy,
  ) {}

  getPolicy(request: IncomingMessage, policyName?: string): Promise<CorsPolicy | undefined> {
    return Promise.resolve(this.resolvePolicy(request, policyName));
  }

  /** getPolicy without the Promise: the policies are in memory. */
  resolvePolicy(_request: IncomingMessage, policyName?: string): CorsPolicy | undefined {
    return policyName === undefined ? this.defaultPolicy : this.policies.get(policyName);
  }

  /** Whether getPolicy can answer this name (undefined: the default policy). */
  hasPolicy(policyName?: string): boolean {
    return policyName === undefined ? this.defaultPolicy !== undefined : this.policies.has(policyName);
  }
}
declareSyncTwin(DefaultCorsPolicyProvider.prototype.getPolicy, 'resolvePolicy');
