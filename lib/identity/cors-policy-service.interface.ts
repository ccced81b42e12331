/**
 * Decides, per request, whether a browser origin may call the identity endpoints
 * (IdentityServer's ICorsPolicyService). `origin` is a serialized origin such as `https://app.example.com`.
 *
 * It may answer at once (a boolean) or later (a Promise), as .NET's ValueTask lets a service do: an
 * in-memory list answers synchronously, so a request it decides costs no Promise and no timer; a
 * database-backed service returns a Promise. Callers accept both.
 */
export interface ICorsPolicyService {
  isOriginAllowed(origin: string): boolean | Promise<boolean>;
}
export const ICorsPolicyService = Symbol('ICorsPolicyService');
