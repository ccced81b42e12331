import { Module, type DynamicModule } from '@nestjs/common';
import { IdentityCorsModule, type CorsClient } from 'nest-identity-cors';
import { ApiController } from './api/api.controller.js';
import { IdentityModule } from './identity/identity.module.js';
import { SampleConfig } from './sample-config.interface.js';

export interface SampleAppOptions extends SampleConfig {
  /** The one origin the `partner` policy allows, with credentials. */
  partnerOrigin: string;
}

/** The CORS part of each client, as the library expects it; the library validates the origins at startup. */
const corsClients = (config: SampleConfig): CorsClient[] =>
  config.clients.map(({ clientId, allowedCorsOrigins, enabled }) => ({ clientId, allowedCorsOrigins, ...(enabled === undefined ? {} : { enabled }) }));

@Module({})
export class SampleAppModule {
  static forRoot(options: SampleAppOptions): DynamicModule {
    const config: SampleConfig = { issuer: options.issuer, clients: options.clients };
    return {
      module: SampleAppModule,
      global: true, // SampleConfig is read by the identity module's controllers
      imports: [
        IdentityCorsModule.forRoot({
          identity: { clients: corsClients(config), preflightCacheDuration: 600 },
          policies: {
            public: (b) => b.allowAnyOrigin().withMethods('GET').allowAnyHeader(),
            partner: (b) => b.withOrigins(options.partnerOrigin).withMethods('GET', 'POST').allowAnyHeader().allowCredentials(),
          },
        }),
        IdentityModule,
      ],
      controllers: [ApiController],
      providers: [{ provide: SampleConfig, useValue: config }],
      exports: [SampleConfig],
    };
  }
}
