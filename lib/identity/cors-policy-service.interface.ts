/**
 * Decides, per request, whether a browser origin may call the identity endpoints
 * (IdentityServer's ICorsPolicyService). `origin` is a serialized origin such as `https://app.example.com`.
 */
export interface ICorsPolicyService {
  isOriginAllowed(origin: string): Promise<boolean>;
}
export const ICorsPolicyService = Symbol('ICorsPolicyService');
