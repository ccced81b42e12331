import { Module } from '@nestjs/common';
import { AuthorizeController } from './authorize.controller.js';
import { ClientRegistry } from './client-registry.js';
import { DiscoveryController } from './discovery.controller.js';
import { GrantStore } from './grant.store.js';
import { RevocationController } from './revocation.controller.js';
import { createSigningKey, SigningKey } from './signing-key.js';
import { TokenController } from './token.controller.js';
import { TokenService } from './token.service.js';
import { UserInfoController } from './userinfo.controller.js';

/** A small OpenID Connect provider at IdentityServer's default paths (so the library's default corsPaths apply). */
@Module({
  controllers: [DiscoveryController, AuthorizeController, TokenController, UserInfoController, RevocationController],
  providers: [{ provide: SigningKey, useFactory: createSigningKey }, ClientRegistry, GrantStore, TokenService],
  exports: [TokenService],
})
export class IdentityModule {}
