// Every public export of the three entry points, used as a consumer would. Compiled, not run: tsconfig*.json
// compile it as an ES module (consumer.mts, the package's ESM types), as CommonJS (consumer.cts, its CommonJS types)
// and with the old node10 resolution. .ci/compat.mjs copies it to those names.
import 'reflect-metadata';
import { Controller, Get, Inject, Injectable, Module } from '@nestjs/common';
import * as cors from 'nest-identity-cors';
import {
  CorsExplainer,
  CorsPolicy,
  EnableCors,
  DisableCors,
  ICorsPolicyService,
  IdentityCorsModule,
  type CachingCorsPolicyServiceOptions,
  type CorsClient,
  type CorsDenialReason,
  type CorsExplainRequest,
  type CorsExplanation,
  type CorsInvalidation,
  type CorsPolicyDefinition,
  type CorsPolicyInit,
  type CorsRequest,
  type CorsResponse,
  type CorsResult,
  type DefaultCorsPolicyServiceOptions,
  type IdentityCorsModuleExtras,
  type IdentityCorsModuleOptions,
  type IdentityCorsOptions,
  type IsOriginAllowed,
  type ProviderOverride,
} from 'nest-identity-cors';
import * as typeorm from 'nest-identity-cors/typeorm';
import { TypeOrmCorsPolicyService, type TypeOrmClientStoreOptions } from 'nest-identity-cors/typeorm';
import * as redis from 'nest-identity-cors/redis';
import { RedisCorsInvalidationBus, type RedisCorsInvalidationBusOptions } from 'nest-identity-cors/redis';

@Injectable()
class ClientOrigins implements ICorsPolicyService {
  async isOriginAllowed(origin: string): Promise<boolean> {
    return origin === 'https://app.example.com';
  }
}

@Controller('api')
@EnableCors('partner')
class ApiController {
  constructor(@Inject(ICorsPolicyService) readonly origins: ICorsPolicyService) {}
  @Get() @DisableCors() list(): string[] {
    return [];
  }
}

const partner: CorsPolicyDefinition = (b) => b.withOrigins('https://partner.example.com').allowCredentials();
const identity: IdentityCorsOptions = { clients: [{ clientId: 'spa', allowedCorsOrigins: ['https://app.example.com'] } satisfies CorsClient] };
const options: IdentityCorsModuleOptions = { identity, policies: { partner }, defaultPolicy: 'partner', globalPolicy: true };

@Module({
  imports: [IdentityCorsModule.forRoot(options)],
  controllers: [ApiController],
  providers: [ClientOrigins],
})
export class AppModule {}

export const values = [cors, typeorm, redis, CorsExplainer, CorsPolicy, TypeOrmCorsPolicyService, RedisCorsInvalidationBus];
export type Types = [
  CachingCorsPolicyServiceOptions,
  CorsInvalidation,
  CorsDenialReason,
  CorsExplainRequest,
  CorsExplanation,
  CorsPolicyInit,
  CorsRequest,
  CorsResponse,
  CorsResult,
  DefaultCorsPolicyServiceOptions,
  IdentityCorsModuleExtras,
  IsOriginAllowed,
  ProviderOverride<ICorsPolicyService>,
  TypeOrmClientStoreOptions,
  RedisCorsInvalidationBusOptions,
];
export const policy: CorsPolicy = new cors.CorsPolicyBuilder().withOrigins('https://a.example').build();
