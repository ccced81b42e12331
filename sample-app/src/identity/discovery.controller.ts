import { Controller, Get, Inject } from '@nestjs/common';
import { SampleConfig } from '../sample-config.interface.js';
import { SigningKey } from './signing-key.js';

/** OpenID Connect Discovery 1.0 and the JWKS; both are CORS paths (the SPA fetches them). */
@Controller('.well-known/openid-configuration')
export class DiscoveryController {
  constructor(
    @Inject(SampleConfig) private readonly config: SampleConfig,
    @Inject(SigningKey) private readonly key: SigningKey,
  ) {}

  @Get()
  discovery() {
    const { issuer } = this.config;
    return {
      issuer,
      authorization_endpoint: `${issuer}/connect/authorize`,
      token_endpoint: `${issuer}/connect/token`,
      userinfo_endpoint: `${issuer}/connect/userinfo`,
      revocation_endpoint: `${issuer}/connect/revocation`,
      jwks_uri: `${issuer}/.well-known/openid-configuration/jwks`,
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      claims_supported: ['sub', 'name', 'given_name', 'family_name', 'preferred_username', 'email', 'email_verified', 'auth_time', 'nonce'],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      authorization_response_iss_parameter_supported: true,
    };
  }

  @Get('jwks')
  jwks() {
    return { keys: [this.key.publicJwk] };
  }
}
