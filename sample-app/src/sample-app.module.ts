import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CachingCorsPolicyService, IdentityCorsModule, type IdentityCorsModuleOptions } from 'nest-identity-cors';
import { TypeOrmClientStore, TypeOrmCorsPolicyService } from 'nest-identity-cors/typeorm';
import { ApiController } from './api/api.controller.js';
import { corsClients, dataSourceOptions, type ClientStoreKind, type SampleDatabase } from './clients/client-store.js';
import { IdentityModule } from './identity/identity.module.js';
import { SampleConfig } from './sample-config.interface.js';

export interface SampleAppOptions extends SampleConfig {
  /** The one origin the `partner` policy allows, with credentials. */
  partnerOrigin: string;
  /** Where the library reads the clients' CORS origins. Default 'memory'. */
  clientStore?: ClientStoreKind;
  /** The typeorm store's database. */
  database?: SampleDatabase;
}

type ModuleParts = Required<Pick<DynamicModule, 'imports' | 'providers'>>;

/** CLIENT_STORE=memory: the library reads the clients from its options and validates their origins at startup. */
function memoryStore(cors: IdentityCorsModuleOptions, config: SampleConfig): ModuleParts {
  return { imports: [IdentityCorsModule.forRoot({ ...cors, identity: { ...cors.identity, clients: corsClients(config.clients) } })], providers: [] };
}

/** CLIENT_STORE=typeorm: the setup of docs/database-store.md (The TypeORM store); bootstrap seeds the clients through the TypeOrmClientStore provider. */
function typeOrmStore(cors: IdentityCorsModuleOptions, database: SampleDatabase): ModuleParts {
  return {
    imports: [
      TypeOrmModule.forRoot({ ...dataSourceOptions(database), retryAttempts: 1 }), // fail at once, not after 10 retries
      IdentityCorsModule.forRoot(cors, {
        corsPolicyService: {
          useFactory: (dataSource: DataSource) => new CachingCorsPolicyService(new TypeOrmCorsPolicyService(dataSource)),
          inject: [getDataSourceToken()],
        },
      }),
    ],
    providers: [{ provide: TypeOrmClientStore, useFactory: (dataSource: DataSource) => new TypeOrmClientStore(dataSource), inject: [getDataSourceToken()] }],
  };
}

@Module({})
export class SampleAppModule {
  static forRoot(options: SampleAppOptions): DynamicModule {
    const config: SampleConfig = { issuer: options.issuer, clients: options.clients };
    const cors: IdentityCorsModuleOptions = {
      identity: { preflightCacheDuration: 600 },
      policies: {
        public: (b) => b.allowAnyOrigin().withMethods('GET').allowAnyHeader(),
        partner: (b) => b.withOrigins(options.partnerOrigin).withMethods('GET', 'POST').allowAnyHeader().allowCredentials(),
      },
    };
    const store = options.clientStore === 'typeorm' ? typeOrmStore(cors, options.database ?? {}) : memoryStore(cors, config);
    return {
      module: SampleAppModule,
      global: true, // SampleConfig is read by the identity module's controllers
      imports: [...store.imports, IdentityModule],
      controllers: [ApiController],
      providers: [{ provide: SampleConfig, useValue: config }, ...store.providers],
      exports: [SampleConfig],
    };
  }
}
