import type { IncomingMessage } from 'node:http';
import type { CorsPolicy } from '../core/cors-policy.js';

/**
 * Finds the policy for a request by name, as ASP.NET Core's ICorsPolicyProvider does.
 * `policyName` undefined means the default policy. Undefined result: no CORS for this request.
 * It may answer at once or in a Promise (see ICorsPolicyService): policies held in memory answer at once.
 */
export interface ICorsPolicyProvider {
  getPolicy(request: IncomingMessage, policyName?: string): CorsPolicy | undefined | Promise<CorsPolicy | undefined>;
}
export const ICorsPolicyProvider = Symbol('ICorsPolicyProvider');
