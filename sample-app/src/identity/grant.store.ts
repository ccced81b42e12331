import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';

/** What the user consented to at the authorize endpoint; carried by codes and refresh tokens. */
export interface Grant {
  clientId: string;
  sub: string;
  scope: string[];
  /** Seconds since the epoch when the user logged in (the id_token's auth_time). */
  authTime: number;
}

export interface AuthorizationCode extends Grant {
  redirectUri: string;
  codeChallenge: string;
  nonce?: string;
}

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

const CODE_LIFETIME_MS = 60_000;
const REFRESH_TOKEN_LIFETIME_MS = 8 * 3600_000;

const newHandle = () => randomBytes(32).toString('base64url');

/** One-time authorization codes, rotating refresh tokens and revoked access tokens, in memory. */
@Injectable()
export class GrantStore {
  private readonly codes = new Map<string, Expiring<AuthorizationCode>>();
  private readonly refreshTokens = new Map<string, Expiring<Grant>>();
  /** jti of revoked access tokens, until they would have expired anyway. */
  private readonly revokedAccessTokens = new Map<string, number>();

  issueCode(code: AuthorizationCode): string {
    return this.put(this.codes, code, CODE_LIFETIME_MS);
  }

  /** The code's grant, once: a second redemption finds nothing. */
  redeemCode(handle: string): AuthorizationCode | undefined {
    return this.take(this.codes, handle);
  }

  issueRefreshToken(grant: Grant): string {
    return this.put(this.refreshTokens, grant, REFRESH_TOKEN_LIFETIME_MS);
  }

  /** The token's grant, once (refresh tokens rotate: each use returns a new one). */
  redeemRefreshToken(handle: string): Grant | undefined {
    return this.take(this.refreshTokens, handle);
  }

  peekRefreshToken(handle: string): Grant | undefined {
    const entry = this.refreshTokens.get(handle);
    return entry && entry.expiresAt > Date.now() ? entry.value : undefined;
  }

  revokeRefreshToken(handle: string): void {
    this.refreshTokens.delete(handle);
  }

  revokeAccessToken(jti: string, expiresAtSeconds: number): void {
    this.revokedAccessTokens.set(jti, expiresAtSeconds * 1000);
  }

  isAccessTokenRevoked(jti: string): boolean {
    return this.revokedAccessTokens.has(jti);
  }

  private put<T>(map: Map<string, Expiring<T>>, value: T, lifetimeMs: number): string {
    this.sweep();
    const handle = newHandle();
    map.set(handle, { value, expiresAt: Date.now() + lifetimeMs });
    return handle;
  }

  private take<T>(map: Map<string, Expiring<T>>, handle: string): T | undefined {
    const entry = map.get(handle);
    map.delete(handle);
    return entry && entry.expiresAt > Date.now() ? entry.value : undefined;
  }

  /** Drops what has expired, so a long-running sample does not grow without bound. */
  private sweep(): void {
    const now = Date.now();
    for (const map of [this.codes, this.refreshTokens]) for (const [key, entry] of map) if (entry.expiresAt <= now) map.delete(key);
    for (const [jti, expiresAt] of this.revokedAccessTokens) if (expiresAt <= now) this.revokedAccessTokens.delete(jti);
  }
}
