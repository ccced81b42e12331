import { Body, Controller, Headers, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ClientRegistry } from './client-registry.js';
import { GrantStore } from './grant.store.js';
import { OAuthError, oauthForm, requiredParam } from './oauth.error.js';
import { TokenService } from './token.service.js';

/**
 * Token revocation (RFC 7009) for refresh tokens and access tokens. Unknown or invalid tokens get
 * 200 too (§2.2): the client's goal, that the token is unusable, is met.
 */
@Controller('connect/revocation')
export class RevocationController {
  constructor(
    private readonly clients: ClientRegistry,
    private readonly grants: GrantStore,
    private readonly tokens: TokenService,
  ) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  async revoke(@Headers('content-type') contentType: string | undefined, @Body() body: Record<string, unknown> | undefined): Promise<void> {
    const form = oauthForm(contentType, body);
    const client = this.clients.authenticate(form);
    const token = requiredParam(form, 'token');
    const hint = form.token_type_hint;
    if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') {
      throw new OAuthError('unsupported_token_type', 'token_type_hint must be access_token or refresh_token');
    }

    const refresh = this.grants.peekRefreshToken(token);
    if (refresh) {
      if (refresh.clientId !== client.clientId) throw new OAuthError('invalid_request', 'this token was not issued to this client');
      return this.grants.revokeRefreshToken(token);
    }
    if (token.split('.').length !== 3) return; // not a JWT, not a refresh token of ours: nothing to revoke
    const payload = await this.tokens.verifyAccessToken(token).catch(() => undefined);
    if (!payload) return; // invalid, expired or already revoked
    if (payload.client_id !== client.clientId) throw new OAuthError('invalid_request', 'this token was not issued to this client');
    this.grants.revokeAccessToken(payload.jti, payload.exp);
  }
}
