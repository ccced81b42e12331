import { HttpException, HttpStatus } from '@nestjs/common';

/** An OAuth 2.0 error response (RFC 6749 §5.2): `{ error, error_description }` as JSON. */
export class OAuthError extends HttpException {
  constructor(error: string, description: string, status: number = HttpStatus.BAD_REQUEST) {
    super({ error, error_description: description }, status);
  }
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * The parameters of a token or revocation request, which must be a form (RFC 6749 §3.2, RFC 7009 §2.1).
 * Both platforms parse the form (Nest's body parsers); the media type is read from the header, parameters aside.
 */
export function oauthForm(contentType: string | undefined, body: unknown): Record<string, unknown> {
  if (contentType?.split(';')[0]!.trim().toLowerCase() !== FORM) throw new OAuthError('invalid_request', `send the parameters as ${FORM}`);
  return (body ?? {}) as Record<string, unknown>;
}

/** The named form parameter, or invalid_request naming it (a parameter sent twice arrives as an array). */
export function requiredParam(form: Record<string, unknown>, name: string): string {
  const value = form[name];
  if (typeof value !== 'string' || value === '') throw new OAuthError('invalid_request', `${name} is required (exactly once)`);
  return value;
}
