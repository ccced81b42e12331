import type { CorsClient } from 'nest-identity-cors';

/** A client registration of the sample: the library's CORS fields plus what OAuth needs. */
export interface SampleClient extends CorsClient {
  clientName?: string;
  /** Exact redirect URIs the authorize endpoint accepts. */
  redirectUris: string[];
  /** Scopes this client may request. */
  allowedScopes: string[];
}

export const DEFAULT_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
