import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import { SampleConfig } from '../sample-config.interface.js';
import { findUser, type DemoUser } from './demo-users.js';
import { GrantStore, type Grant } from './grant.store.js';
import { OAuthError } from './oauth.error.js';
import { SigningKey } from './signing-key.js';

export const ACCESS_TOKEN_LIFETIME_S = 300;
const ID_TOKEN_LIFETIME_S = 300;
/** The audience of access tokens: the sample's own userinfo endpoint and API. */
export const API_AUDIENCE = 'sample-api';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  id_token: string;
  refresh_token?: string;
}

export interface AccessTokenPayload extends JWTPayload {
  sub: string;
  jti: string;
  exp: number;
  client_id: string;
  scope: string;
}

/** User claims a scope releases (OIDC Core §5.4). */
export function claimsFor(user: DemoUser, scope: readonly string[]): Record<string, unknown> {
  const { name, given_name, family_name, email, email_verified } = user.claims;
  return {
    sub: user.sub,
    ...(scope.includes('profile') ? { name, given_name, family_name, preferred_username: user.username } : {}),
    ...(scope.includes('email') ? { email, email_verified } : {}),
  };
}

/** Signs id_tokens and access tokens (JWTs, RS256, with jose) and verifies access tokens. */
@Injectable()
export class TokenService {
  constructor(
    @Inject(SampleConfig) private readonly config: SampleConfig,
    @Inject(SigningKey) private readonly key: SigningKey,
    private readonly grants: GrantStore,
  ) {}

  /**
   * Tokens for a grant. `scope` may narrow what the access and id tokens carry (a refresh request);
   * a new refresh token always keeps the grant's whole scope (RFC 6749 §6).
   */
  async issue(grant: Grant, { nonce, scope: narrowed }: { nonce?: string; scope?: string[] } = {}): Promise<TokenResponse> {
    const user = findUser(grant.sub);
    if (!user) throw new OAuthError('invalid_grant', 'the user of this grant no longer exists');
    const scopes = narrowed ?? grant.scope;
    const scope = scopes.join(' ');
    const accessToken = await new SignJWT({ client_id: grant.clientId, scope })
      .setProtectedHeader({ alg: 'RS256', kid: this.key.kid, typ: 'at+jwt' })
      .setIssuer(this.config.issuer)
      .setAudience(API_AUDIENCE)
      .setSubject(grant.sub)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${ACCESS_TOKEN_LIFETIME_S}s`)
      .sign(this.key.privateKey);
    const idToken = await new SignJWT({ ...claimsFor(user, scopes), auth_time: grant.authTime, ...(nonce ? { nonce } : {}) })
      .setProtectedHeader({ alg: 'RS256', kid: this.key.kid, typ: 'JWT' })
      .setIssuer(this.config.issuer)
      .setAudience(grant.clientId)
      .setSubject(grant.sub)
      .setIssuedAt()
      .setExpirationTime(`${ID_TOKEN_LIFETIME_S}s`)
      .sign(this.key.privateKey);
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_LIFETIME_S,
      scope,
      id_token: idToken,
      ...(grant.scope.includes('offline_access') ? { refresh_token: this.grants.issueRefreshToken(grant) } : {}),
    };
  }

  /** The payload of a valid, unrevoked access token of this server; throws (with the reason) otherwise. */
  async verifyAccessToken(token: string): Promise<AccessTokenPayload> {
    const { payload } = await jwtVerify<AccessTokenPayload>(token, this.key.publicKey, {
      issuer: this.config.issuer,
      audience: API_AUDIENCE,
      typ: 'at+jwt',
      algorithms: ['RS256'],
      requiredClaims: ['sub', 'jti', 'exp', 'client_id', 'scope'],
    });
    if (this.grants.isAccessTokenRevoked(payload.jti)) throw new Error('the access token has been revoked');
    return payload;
  }
}
