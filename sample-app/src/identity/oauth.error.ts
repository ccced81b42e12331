import { HttpException, HttpStatus } from '@nestjs/common';

/** An OAuth 2.0 error response (RFC 6749 §5.2): `{ error, error_description }` as JSON. */
export class OAuthError extends HttpException {
  constructor(error: string, description: string, status: number = HttpStatus.BAD_REQUEST) {
    super({ error, error_description: description }, status);
  }
}
