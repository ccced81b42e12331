import { Global, Inject, Injectable, Module, Scope, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CorsExplainer, ICorsPolicyProvider, ICorsPolicyService, IdentityCorsModule } from 'nest-identity-cors';
import { CORS_TYPEORM_ENTITIES, TypeOrmClientStore, TypeOrmCorsPolicyService } from 'nest-identity-cors/typeorm';
import { IdentityCorsPolicyProvider } from '../../lib/identity/identity-cors-policy.provider.js';
import { createApp } from '../support/app.js';
import { acao, clients, IdentityController, server, SPA } from '../support/identity-app.js';

// The identity provider is built once, in its factory, with the ICorsPolicyService and ICorsPolicyProvider a
// host module registers: Nest builds the providers of all modules at once, so the factory waits for the host's.

const HOST = 'https://host-module.example';
const TEST = 'https://test-override.example';

const allowed = async (app: INestApplication, origin: string) => acao(await server(app).get('/connect/userinfo').set('Origin', origin)) === origin;
/** IdentityCorsModule's own ICorsPolicyProvider (a host module may register one under the same token). */
const identityOf = (app: { get: INestApplication['get'] }): IdentityCorsPolicyProvider => {
  const identity = app.get<unknown, unknown[]>(ICorsPolicyProvider, { strict: false, each: true }).filter((p) => p instanceof IdentityCorsPolicyProvider);
  expect(identity).toHaveLength(1);
  return identity[0] as IdentityCorsPolicyProvider;
};
const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class HostService implements ICorsPolicyService {
  isOriginAllowed(origin: string) { return origin === HOST; }
}

describe('a host module ICorsPolicyService that Nest builds after the identity module', () => {
  it('an async factory that answers later, in a module listed after IdentityCorsModule: used from the first request', async () => {
    const service = new HostService();
    @Module({ providers: [{ provide: ICorsPolicyService, useFactory: async () => (await later(50), service) }] })
    class SlowHostModule {}
    const app = await createApp({ imports: [IdentityCorsModule.forRoot({ identity: { clients } }), SlowHostModule], controllers: [IdentityController] });
    expect(await allowed(app, HOST)).toBe(true);
    expect(await allowed(app, SPA)).toBe(false);
    expect(identityOf(app).decorated.policyService).toBe(service);
    await app.close();
  });

  it('a service in a module imported later, behind a dependency that answers later', async () => {
    const CONNECTION = Symbol('CONNECTION');
    @Module({ providers: [{ provide: CONNECTION, useFactory: async () => (await later(30), { origins: [HOST] }) }], exports: [CONNECTION] })
    class ConnectionModule {}
    @Injectable()
    class ConnectedService implements ICorsPolicyService {
      constructor(@Inject(CONNECTION) private readonly connection: { origins: string[] }) {}
      isOriginAllowed(origin: string) { return this.connection.origins.includes(origin); }
    }
    @Module({ imports: [ConnectionModule], providers: [{ provide: ICorsPolicyService, useClass: ConnectedService }] })
    class FeatureModule {}
    @Module({ imports: [FeatureModule] })
    class OuterModule {}
    const app = await createApp({ imports: [IdentityCorsModule.forRoot({}), OuterModule], controllers: [IdentityController] });
    expect(await allowed(app, HOST)).toBe(true);
    expect(identityOf(app).decorated.policyService).toBeInstanceOf(ConnectedService);
    await app.close();
  });

  it('a TypeORM-backed service whose factory waits for the DataSource and seeds it (sql.js), listed after IdentityCorsModule', async () => {
    @Module({
      providers: [
        {
          provide: ICorsPolicyService,
          useFactory: async (dataSource: DataSource) => {
            await new TypeOrmClientStore(dataSource).upsert({ clientId: 'spa', allowedCorsOrigins: [SPA] });
            return new TypeOrmCorsPolicyService(dataSource);
          },
          inject: [getDataSourceToken()],
        },
      ],
    })
    class ClientsModule {}
    const app = await createApp({
      imports: [IdentityCorsModule.forRoot({}), ClientsModule, TypeOrmModule.forRoot({ type: 'sqljs', entities: [...CORS_TYPEORM_ENTITIES], synchronize: true })],
      controllers: [IdentityController],
    });
    expect(await allowed(app, SPA)).toBe(true);
    expect(await allowed(app, HOST)).toBe(false);
    expect(identityOf(app).decorated.policyService).toBeInstanceOf(TypeOrmCorsPolicyService);
    await app.close();
  });

  it('a transient service (which Nest builds only for a consumer): the identity provider gets its own instance', async () => {
    @Injectable({ scope: Scope.TRANSIENT })
    class TransientService extends HostService {}
    @Module({ providers: [{ provide: ICorsPolicyService, useClass: TransientService }] })
    class TransientModule {}
    const app = await createApp({ imports: [TransientModule, IdentityCorsModule.forRoot({})], controllers: [IdentityController] });
    expect(await allowed(app, HOST)).toBe(true);
    expect(identityOf(app).decorated.policyService).toBeInstanceOf(TransientService);
    await app.close();
  });

  it('a service exported by a global module', async () => {
    @Global()
    @Module({ providers: [{ provide: ICorsPolicyService, useClass: HostService }], exports: [ICorsPolicyService] })
    class GlobalHostModule {}
    const app = await createApp({ imports: [IdentityCorsModule.forRoot({}), GlobalHostModule], controllers: [IdentityController] });
    expect(await allowed(app, HOST)).toBe(true);
    expect(identityOf(app).decorated.policyService).toBeInstanceOf(HostService);
    await app.close();
  });

  it('a host ICorsPolicyProvider that answers later is decorated', async () => {
    const provider = { getPolicy: async () => undefined };
    @Module({ providers: [{ provide: ICorsPolicyProvider, useFactory: async () => (await later(30), provider) }] })
    class SlowProviderModule {}
    const app = await createApp({ imports: [IdentityCorsModule.forRoot({ identity: { clients } }), SlowProviderModule], controllers: [IdentityController] });
    expect(identityOf(app).decorated.inner).toBe(provider);
    expect(await allowed(app, SPA)).toBe(true);
    await app.close();
  });
});

describe('the identity provider is built once', () => {
  it('is the same object before and after app.init(), already built with the host service, and has no use()', async () => {
    @Module({ providers: [{ provide: ICorsPolicyService, useFactory: async () => (await later(20), new HostService()) }] })
    class SlowHostModule {}
    const moduleRef = await Test.createTestingModule({ imports: [IdentityCorsModule.forRoot({}), SlowHostModule], controllers: [IdentityController] }).compile();
    const before = identityOf(moduleRef);
    expect(before.decorated.policyService).toBeInstanceOf(HostService);
    expect('use' in before).toBe(false);
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    expect(identityOf(app)).toBe(before);
    expect(before.decorated.policyService).toBeInstanceOf(HostService);
    expect(await allowed(app, HOST)).toBe(true);
    await app.close();
  });
});

describe('overrideProvider(ICorsPolicyService) wins over a host module provider, whatever its form', () => {
  @Module({ providers: [{ provide: ICorsPolicyService, useClass: HostService }] })
  class HostModule {}
  class TestService implements ICorsPolicyService {
    isOriginAllowed(origin: string) { return origin === TEST; }
  }

  it.each<[string, (builder: ReturnType<typeof Test.createTestingModule>) => ReturnType<typeof Test.createTestingModule>]>([
    ['useValue', (builder) => builder.overrideProvider(ICorsPolicyService).useValue(new TestService())],
    ['useClass', (builder) => builder.overrideProvider(ICorsPolicyService).useClass(TestService)],
    ['useFactory', (builder) => builder.overrideProvider(ICorsPolicyService).useFactory({ factory: async () => (await later(10), new TestService()) })],
  ])('%s', async (_form, override) => {
    const app = await createApp({ imports: [HostModule, IdentityCorsModule.forRoot({ identity: { clients } })], controllers: [IdentityController] }, { override });
    expect(await allowed(app, TEST)).toBe(true);
    expect(await allowed(app, HOST)).toBe(false);
    expect(await allowed(app, SPA)).toBe(false);
    await app.close();
  });
});

describe('host services the identity provider cannot be built with: a startup error, not a hang', () => {
  async function startupError(metadata: ModuleMetadata): Promise<Error> {
    const error = await Test.createTestingModule(metadata)
      .compile()
      .then(
        async (moduleRef) => {
          await moduleRef.close();
          return undefined;
        },
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }

  it.each([
    ['ICorsPolicyService', ICorsPolicyService, null, 'null', 'isOriginAllowed(origin)'],
    ['ICorsPolicyService', ICorsPolicyService, {}, 'an object without isOriginAllowed', 'isOriginAllowed(origin)'],
    ['ICorsPolicyProvider', ICorsPolicyProvider, 'policies', '"policies"', 'getPolicy(request, policyName)'],
  ])('an %s registered as %j (it would fail every request it decides)', async (name, token, value, shown, method) => {
    @Module({ providers: [{ provide: token, useValue: value }] })
    class BrokenHostModule {}
    const error = await startupError({ imports: [BrokenHostModule, IdentityCorsModule.forRoot({})] });
    expect(error.message).toBe(
      `${name} registered in BrokenHostModule is ${shown}, not an ${name}: register a class or an object with ${method}, or remove that provider from BrokenHostModule.`,
    );
  });

  it('a request-scoped service', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequestService extends HostService {}
    @Module({ providers: [{ provide: ICorsPolicyService, useClass: PerRequestService }] })
    class PerRequestModule {}
    const error = await startupError({ imports: [PerRequestModule, IdentityCorsModule.forRoot({})] });
    expect(error.message).toBe(
      'ICorsPolicyService PerRequestService, registered in PerRequestModule, is request-scoped (itself or a dependency): IdentityCorsModule builds its identity provider once, at startup, with one instance. Make it a singleton (the default scope).',
    );
  });

  it('a service that injects CorsExplainer (from a global IdentityCorsModule), which needs the identity provider', async () => {
    @Injectable()
    class ExplainingService extends HostService {
      constructor(readonly explainer: CorsExplainer) { super(); }
    }
    @Module({ providers: [{ provide: ICorsPolicyService, useClass: ExplainingService }] })
    class ExplainingModule {}
    const error = await startupError({ imports: [ExplainingModule, IdentityCorsModule.forRoot({ isGlobal: true })] });
    expect(error.message).toBe(
      'ICorsPolicyService ExplainingService, registered in ExplainingModule, depends on the identity provider it is built into (ExplainingService → CorsExplainer → CorsHandler → ICorsPolicyProvider), so neither can be built. Inject ModuleRef instead, and get CorsExplainer when you use it: this.moduleRef.get(CorsExplainer, { strict: false }).',
    );
  });

  it('a service that injects ICorsPolicyProvider (the identity provider itself, from a global IdentityCorsModule)', async () => {
    @Injectable()
    class PolicyAwareService extends HostService {
      constructor(@Inject(ICorsPolicyProvider) readonly policies: ICorsPolicyProvider) { super(); }
    }
    @Module({ providers: [{ provide: ICorsPolicyService, useClass: PolicyAwareService }] })
    class PolicyAwareModule {}
    const error = await startupError({ imports: [IdentityCorsModule.forRoot({ isGlobal: true }), PolicyAwareModule] });
    expect(error.message).toBe(
      'ICorsPolicyService PolicyAwareService, registered in PolicyAwareModule, depends on the identity provider it is built into (PolicyAwareService → ICorsPolicyProvider), so neither can be built. Inject ModuleRef instead, and get ICorsPolicyProvider when you use it: this.moduleRef.get(ICorsPolicyProvider, { strict: false }).',
    );
  });
});
