import { Controller, Get, Inject, Injectable, Module, type INestApplication } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import request from 'supertest';
import {
  CorsPolicy,
  DefaultCorsPolicyProvider,
  DefaultCorsPolicyService,
  EnableCors,
  ICorsPolicyProvider,
  ICorsPolicyService,
  IdentityCorsModule,
  InMemoryCorsPolicyService,
} from 'nest-identity-cors';
import { createApp } from '../support/app.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { acao, clients, IdentityController, policies, server, SPA } from '../support/identity-app.js';
import { A, B, policies as namedPolicies, startPolicyRoutes } from '../support/policy-routes.js';
import { createNestApp, initApp } from '../support/platform.js';

// The host replaces or decorates the library's services: ICorsPolicyService (options, its own module,
// overrideProvider) and ICorsPolicyProvider, and the library calls the host's code, not its built-in shortcut.

/** A host service that allows one fixed origin, to tell overrides apart. */
function allowing(origin: string): ICorsPolicyService {
  return { isOriginAllowed: async (o: string) => o === origin };
}

describe('overriding ICorsPolicyService: three ways, and which wins', () => {
  const HOST = 'https://host-module.example';
  const OPTION = 'https://option.example';
  const TEST = 'https://test-override.example';

  @Injectable()
  class HostModuleService implements ICorsPolicyService {
    async isOriginAllowed(origin: string) { return origin === HOST; }
  }
  @Module({ providers: [{ provide: ICorsPolicyService, useClass: HostModuleService }] })
  class HostModule {}

  @Injectable()
  class OptionService implements ICorsPolicyService {
    async isOriginAllowed(origin: string) { return origin === OPTION; }
  }

  const allowed = async (app: INestApplication, origin: string) => acao(await server(app).get('/connect/userinfo').set('Origin', origin)) === origin;

  it('by options: a class, a factory, an existing provider', async () => {
    for (const corsPolicyService of [OptionService, { useClass: OptionService }, { useFactory: () => allowing(OPTION) }]) {
      const app = await createApp({ imports: [IdentityCorsModule.forRoot({ identity: { clients }, corsPolicyService })], controllers: [IdentityController] });
      expect(await allowed(app, OPTION)).toBe(true);
      expect(await allowed(app, SPA)).toBe(false);
      await app.close();
    }
    @Module({ providers: [OptionService], exports: [OptionService] })
    class ServicesModule {}
    const app = await createApp({
      imports: [IdentityCorsModule.forRootAsync({ imports: [ServicesModule], useFactory: () => ({}), corsPolicyService: { useExisting: OptionService } })],
      controllers: [IdentityController],
    });
    expect(await allowed(app, OPTION)).toBe(true);
    await app.close();
  });

  it("by a provider in the host's own module", async () => {
    const app = await createApp({ imports: [HostModule, IdentityCorsModule.forRoot({ identity: { clients } })], controllers: [IdentityController] });
    expect(await allowed(app, HOST)).toBe(true);
    expect(await allowed(app, SPA)).toBe(false);
    await app.close();
  });

  it('by Test.createTestingModule(...).overrideProvider(ICorsPolicyService)', async () => {
    const app = await createApp(
      { imports: [IdentityCorsModule.forRoot({ identity: { clients } })], controllers: [IdentityController] },
      { override: (builder) => builder.overrideProvider(ICorsPolicyService).useValue(allowing(TEST)) },
    );
    expect(await allowed(app, TEST)).toBe(true);
    expect(await allowed(app, SPA)).toBe(false);
    await app.close();
  });

  it('precedence: overrideProvider > options > host module provider > built-in', async () => {
    const withOptionAndHost = await createApp({ imports: [HostModule, IdentityCorsModule.forRoot({ corsPolicyService: OptionService })], controllers: [IdentityController] });
    expect(await allowed(withOptionAndHost, OPTION)).toBe(true);
    expect(await allowed(withOptionAndHost, HOST)).toBe(false);
    await withOptionAndHost.close();
    const all = await createApp(
      { imports: [HostModule, IdentityCorsModule.forRoot({ corsPolicyService: OptionService })], controllers: [IdentityController] },
      { override: (builder) => builder.overrideProvider(ICorsPolicyService).useValue(allowing(TEST)) },
    );
    expect(await allowed(all, TEST)).toBe(true);
    expect(await allowed(all, OPTION)).toBe(false);
    expect(await allowed(all, HOST)).toBe(false);
    await all.close();
  });

  it('a DefaultCorsPolicyService built in a factory, as in the reference text', async () => {
    const app = await createApp({
      imports: [
        IdentityCorsModule.forRoot({
          corsPolicyService: { useFactory: () => new DefaultCorsPolicyService(new CaptureLogger(), { allowedOrigins: ['https://foo', 'https://bar'] }) },
        }),
      ],
      controllers: [IdentityController],
    });
    expect(await allowed(app, 'https://bar')).toBe(true);
    expect(await allowed(app, 'https://baz')).toBe(false);
    await app.close();
  });
});

describe("the identity layer decorates the host's ICorsPolicyProvider", () => {
  const CUSTOM = 'https://custom-provider.example';

  @Injectable()
  class HostPolicyProvider implements ICorsPolicyProvider {
    readonly names: Array<string | undefined> = [];
    async getPolicy(_request: IncomingMessage, policyName?: string) {
      this.names.push(policyName);
      return policyName === 'custom' ? new CorsPolicy({ origins: [CUSTOM] }) : undefined;
    }
  }
  @Controller('host')
  class HostController {
    @Get() @EnableCors('custom') get() { return 'host'; }
  }

  it('given in options: its names are delegated unchanged, the identity name is answered by the identity layer', async () => {
    const app = await createApp({
      imports: [IdentityCorsModule.forRoot({ identity: { clients }, policyProvider: HostPolicyProvider })],
      controllers: [IdentityController, HostController],
    });
    expect(acao(await server(app).get('/host').set('Origin', CUSTOM))).toBe(CUSTOM);
    expect(acao(await server(app).post('/connect/token').set('Origin', SPA))).toBe(SPA);
    const outer = app.get<ICorsPolicyProvider>(ICorsPolicyProvider);
    expect(outer).not.toBeInstanceOf(HostPolicyProvider);
    await app.close();
  });

  it("registered in the host's module: wrapped, not replaced", async () => {
    @Module({ providers: [{ provide: ICorsPolicyProvider, useClass: HostPolicyProvider }], exports: [ICorsPolicyProvider] })
    class HostModule {}
    const app = await createApp({ imports: [HostModule, IdentityCorsModule.forRoot({ identity: { clients } })], controllers: [IdentityController, HostController] });
    expect(acao(await server(app).get('/host').set('Origin', CUSTOM))).toBe(CUSTOM);
    expect(acao(await server(app).post('/connect/token').set('Origin', SPA))).toBe(SPA);
    const host = app.select(HostModule).get<HostPolicyProvider>(ICorsPolicyProvider, { strict: true });
    expect(host.names).toEqual(['custom']);
    await app.close();
  });

  it('the default named-policy provider is decorated when the host has none', async () => {
    const app = await createApp({ imports: [IdentityCorsModule.forRoot({ policies, identity: { clients } })], controllers: [IdentityController] });
    const outer = app.get<{ decorated: { inner: unknown } }>(ICorsPolicyProvider);
    expect(outer.decorated.inner).toBeInstanceOf(DefaultCorsPolicyProvider);
    await app.close();
  });
});

describe('the host can inject the module exports', () => {
  it('exports ICorsPolicyService for hosts that inspect or reuse it', async () => {
    @Injectable()
    class Admin {
      constructor(@Inject(ICorsPolicyService) readonly service: ICorsPolicyService) {}
    }
    const app = await createApp({ imports: [IdentityCorsModule.forRoot({ identity: { clients }, isGlobal: true })], providers: [Admin] });
    expect(await app.get(Admin).service.isOriginAllowed(SPA)).toBe(true);
    await app.close();
  });
});

describe('a host provider that extends the built-in one and answers in a Promise', () => {
  class OnlyB extends DefaultCorsPolicyProvider {
    readonly asked: Array<string | undefined> = [];
    override async getPolicy(_request: IncomingMessage, policyName?: string) {
      this.asked.push(policyName);
      return new CorsPolicy({ origins: [B] });
    }
  }
  // its own lookup table allows A; its getPolicy override allows only B
  const provider = new OnlyB(new Map(Object.keys(namedPolicies).map((name) => [name, new CorsPolicy({ origins: [A] })])));
  let app: INestApplication;
  beforeAll(async () => {
    ({ app } = await startPolicyRoutes([IdentityCorsModule.forRoot({ policies: namedPolicies, policyProvider: { useValue: provider } })], true));
  });
  afterAll(() => app.close());

  it("uses the subclass's getPolicy, not the built-in lookup table", async () => {
    expect((await request(app.getHttpServer()).get('/h/plain').set('Origin', A)).headers['access-control-allow-origin']).toBeUndefined();
    expect((await request(app.getHttpServer()).get('/h/plain').set('Origin', B)).headers['access-control-allow-origin']).toBe(B);
    expect(provider.asked).toEqual(['listed', 'listed']);
  });
});

describe('a built-in ICorsPolicyService whose isOriginAllowed is replaced by an async function (as a spy does)', () => {
  const service = new InMemoryCorsPolicyService([{ clientId: 'spa', allowedCorsOrigins: [A] }]);
  const asked: string[] = [];
  service.isOriginAllowed = async (origin: string) => {
    asked.push(origin);
    return origin === B;
  };
  let app: INestApplication;
  beforeAll(async () => {
    @Controller('connect')
    class UserInfoController {
      @Get('userinfo') userinfo() { return { sub: '1' }; }
    }
    @Module({ imports: [IdentityCorsModule.forRoot({ corsPolicyService: { useValue: service } })], controllers: [UserInfoController] })
    class AppModule {}
    app = await createNestApp(AppModule, { logger: false });
    await initApp(app);
  });
  afterAll(() => app.close());

  it('uses the replacement, not the built-in index', async () => {
    expect((await request(app.getHttpServer()).get('/connect/userinfo').set('Origin', A)).headers['access-control-allow-origin']).toBeUndefined();
    expect((await request(app.getHttpServer()).get('/connect/userinfo').set('Origin', B)).headers['access-control-allow-origin']).toBe(B);
    expect(asked).toEqual([A, B]);
  });
});
