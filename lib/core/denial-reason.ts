/**
 * Why a CORS request got no allow headers. One code per cause, so logs (and, later, diagnostics)
 * can name it; never the attacker-chosen origin or path, which would make the set of causes unbounded.
 */
export type CorsDenialReason =
  /** No policy applies: a named policy the provider does not know, or a provider that returned none. */
  | 'no-policy'
  /** The Origin header is not a serialized origin (RULES 3). */
  | 'origin-invalid'
  /** The route's policy does not allow the origin. */
  | 'origin-not-allowed'
  /** A preflight whose Access-Control-Request-Method or -Headers is not a token (list), or too long. */
  | 'preflight-invalid'
  /** ICorsPolicyService did not allow the origin on an identity path (RULES 11). */
  | 'service-denied'
  /** The policy's provider, service or predicate threw or timed out (RULES 10). */
  | 'policy-failed'
  /** The origin is the server's own, on an identity path: not a cross-origin request. */
  | 'server-origin'
  /** Origin null on an identity path, whose ICorsPolicyService allows every origin rather than listing null (RULES 2). */
  | 'null-not-listed';

/** What each denial reason means, for its log line and for explanations. */
export const DENIAL_TEXT: Readonly<Record<CorsDenialReason, string>> = {
  'no-policy': 'no CORS policy applies',
  'origin-invalid': 'the Origin header is not a serialized origin',
  'origin-not-allowed': 'the policy does not allow the origin',
  'preflight-invalid': 'Access-Control-Request-Method or -Headers is malformed',
  'service-denied': 'ICorsPolicyService did not allow the origin',
  'policy-failed': 'the policy failed',
  'server-origin': "the origin is the server's own, so no CORS is needed",
  'null-not-listed': 'Origin null is allowed only where it is listed, and ICorsPolicyService allows every origin (it allowed one no site uses)',
};
