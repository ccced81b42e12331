import { Body, Controller, Header, Headers, HttpCode, HttpStatus, Post } from '@nestjs/common';
import type { SampleClient } from '../clients/sample-client.interface.js';
import { ClientRegistry } from './client-registry.js';
import { GrantStore } from './grant.store.js';
import { OAuthError, oauthForm, requiredParam } from './oauth.error.js';
import { verifyS256 } from './pkce.js';
import { TokenService, type TokenResponse } from './token.service.js';

type Form = Record<string, unknown>;

/**
 * The token endpoint (RFC 6749 §3.2) for public clients: authorization_code with PKCE S256 and
 * refresh_token with rotation. Browsers call it cross-origin (a CORS POST with a form body).
 */
@Controller('connect/token')
export class TokenController {
  constructor(
    private readonly clients: ClientRegistry,
    private readonly grants: GrantStore,
    private readonly tokens: TokenService,
  ) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  async token(@Headers('content-type') contentType: string | undefined, @Body() body: Form | undefined): Promise<TokenResponse> {
    const form = oauthForm(contentType, body);
    const client = this.clients.authenticate(form);
    switch (form.grant_type) {
      case 'authorization_code':
        return this.authorizationCode(client, form);
      case 'refresh_token':
        return this.refreshToken(client, form);
      default:
        throw new OAuthError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
    }
  }

  private async authorizationCode(client: SampleClient, form: Form): Promise<TokenResponse> {
    const code = this.grants.redeemCode(requiredParam(form, 'code'));
    const redirectUri = requiredParam(form, 'redirect_uri');
    const verifier = requiredParam(form, 'code_verifier');
    if (!code || code.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'the code is unknown, expired, already used or issued to another client');
    if (code.redirectUri !== redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri differs from the one of the authorize request');
    if (!verifyS256(verifier, code.codeChallenge)) throw new OAuthError('invalid_grant', 'PKCE verification failed: code_verifier does not match code_challenge');
    const { clientId, sub, scope, authTime } = code;
    return this.tokens.issue({ clientId, sub, scope, authTime }, { nonce: code.nonce });
  }

  private async refreshToken(client: SampleClient, form: Form): Promise<TokenResponse> {
    const handle = requiredParam(form, 'refresh_token');
    // check the owner before redeeming, so another client cannot burn this client's token
    const owned = this.grants.peekRefreshToken(handle);
    if (!owned || owned.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'the refresh token is unknown, expired, revoked, already used or issued to another client');
    let scope: string[] | undefined;
    if (typeof form.scope === 'string' && form.scope !== '') {
      scope = [...new Set(form.scope.split(' ').filter(Boolean))];
      const extra = scope.filter((s) => !owned.scope.includes(s));
      if (extra.length > 0) throw new OAuthError('invalid_scope', `scope exceeds the original grant: ${extra.join(' ')}`);
    }
    const grant = this.grants.redeemRefreshToken(handle)!;
    return this.tokens.issue(grant, { scope });
  }
}
