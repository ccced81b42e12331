import { Controller, Get, Injectable, Module, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { CorsPolicyBuilder, DisableCors, EnableCors, ICorsPolicyService, IdentityCorsModule, IdentityCorsOptionsError } from 'nest-identity-cors';
import { CaptureLogger } from '../support/capture-logger.js';
import { createNestApp, initApp, NEST_NAMES_ROUTE_HANDLERS } from '../support/platform.js';

const PARTNER = 'https://partner.example';
const policies = { partner: (b: CorsPolicyBuilder) => b.withOrigins(PARTNER), admin: (b: CorsPolicyBuilder) => b.withOrigins('https://admin.example') };

/** A real app (Test.createTestingModule + app.init) with its logs captured. */
async function start(metadata: ModuleMetadata): Promise<{ app: INestApplication; logger: CaptureLogger }> {
  const logger = new CaptureLogger();
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = await createNestApp(moduleRef, { logger });
  await initApp(app);
  return { app, logger };
}

async function startupError(metadata: ModuleMetadata): Promise<IdentityCorsOptionsError> {
  const error = await start(metadata).then(
    async ({ app }) => {
      await app.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IdentityCorsOptionsError);
  return error as IdentityCorsOptionsError;
}

describe('@EnableCors names are checked at startup, with a did-you-mean (RULES 16)', () => {
  function controllers(name: string, level: 'class' | 'handler') {
    @Controller('partner')
    @(level === 'class' ? EnableCors(name) : () => undefined)
    class PartnerController {
      @Get('a') a() { return 'a'; }
      @Get('b') b() { return 'b'; }
      @Get('c') @(level === 'handler' ? EnableCors(name) : () => undefined) c() { return 'c'; }
    }
    return [PartnerController];
  }

  it('reports a controller-level name once, naming the controller, and suggests the close policy', async () => {
    const error = await startupError({ imports: [IdentityCorsModule.forRoot({ policies })], controllers: controllers('partnr', 'class') });
    expect(error.problems).toEqual(["@EnableCors('partnr') on PartnerController names no policy: define it in policies (known: partner, admin); did you mean 'partner'?"]);
  });

  it('reports a handler-level name naming Controller.method', async () => {
    const error = await startupError({ imports: [IdentityCorsModule.forRoot({ policies })], controllers: controllers('Partner', 'handler') });
    expect(error.problems).toEqual(["@EnableCors('Partner') on PartnerController.c names no policy: define it in policies (known: partner, admin); did you mean 'partner'?"]);
  });

  it('suggests the identity policy name too, and nothing when no name is close', async () => {
    const near = await startupError({ imports: [IdentityCorsModule.forRoot({ policies })], controllers: controllers('IdentityServr', 'class') });
    expect(near.problems[0]).toContain("did you mean 'IdentityServer'?");
    const far = await startupError({ imports: [IdentityCorsModule.forRoot({ policies })], controllers: controllers('billing', 'class') });
    expect(far.problems).toEqual(["@EnableCors('billing') on PartnerController names no policy: define it in policies (known: partner, admin)"]);
  });

  it('reports a controller-level @EnableCors() without a default policy once', async () => {
    @Controller('d')
    @EnableCors()
    class DefaultController {
      @Get('a') a() { return 'a'; }
      @Get('b') b() { return 'b'; }
    }
    const error = await startupError({ imports: [IdentityCorsModule.forRoot({ policies })], controllers: [DefaultController] });
    expect(error.problems).toEqual(['@EnableCors() on DefaultController uses the default policy, but no defaultPolicy is configured: set defaultPolicy or name a policy']);
  });

  it('the suggested name, applied, starts and serves', async () => {
    const { app } = await start({ imports: [IdentityCorsModule.forRoot({ policies })], controllers: controllers('partner', 'class') });
    expect((await request(app.getHttpServer()).get('/partner/a').set('Origin', PARTNER)).headers['access-control-allow-origin']).toBe(PARTNER);
    await app.close();
  });
});

describe('controllers of one class name that share a route method with different CORS metadata are refused at startup (RULES 16)', () => {
  const credentialed = { partner: (b: CorsPolicyBuilder) => b.withOrigins(PARTNER).allowCredentials().withMethods('GET') };

  /** Two modules' controllers, each class named OrdersController (as in two files): one @EnableCors('partner'), one @DisableCors(). */
  function twoOrdersControllers() {
    const partner = (() => {
      @Controller('partner/orders') @EnableCors('partner')
      class OrdersController { @Get(':id') findOne() { return 'partner'; } }
      return OrdersController;
    })();
    const internal = (() => {
      @Controller('internal/orders') @DisableCors()
      class OrdersController { @Get(':id') findOne() { return 'internal'; } }
      return OrdersController;
    })();
    return [partner, internal];
  }

  /** Controllers a function makes from one base class (its methods shared), each class named ResourceController unless renamed. */
  /** `fix`: none; each class declares the methods itself (the fix the error gives first); or each class renamed. */
  function madeControllers(fix: 'none' | 'declare' | 'rename') {
    abstract class Base {
      @Get(':id') findOne() { return 'one'; }
      @Get() list() { return ['all']; }
    }
    const make = (path: string, decorator: ClassDecorator, name: string) => {
      @Controller(path) @decorator
      class ResourceController extends Base {}
      @Controller(path) @decorator
      class DeclaringController extends Base {
        @Get(':id') override findOne() { return super.findOne(); }
        @Get() override list() { return super.list(); }
      }
      if (fix === 'declare') return DeclaringController;
      if (fix === 'rename') Object.defineProperty(ResourceController, 'name', { value: name });
      return ResourceController;
    };
    return [make('internal', DisableCors(), 'InternalResourceController'), make('public', EnableCors('partner'), 'PublicResourceController')];
  }

  async function expectEachOwnCors(app: INestApplication) {
    for (const path of ['/internal', '/internal/1']) {
      const res = await request(app.getHttpServer()).get(path).set('Origin', PARTNER);
      expect([res.status, res.headers['access-control-allow-origin'], res.headers['access-control-allow-credentials']]).toEqual([200, undefined, undefined]);
      const preflight = await request(app.getHttpServer()).options(path).set('Origin', PARTNER).set('Access-Control-Request-Method', 'GET');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    }
    for (const path of ['/public', '/public/1']) {
      const res = await request(app.getHttpServer()).get(path).set('Origin', PARTNER);
      expect([res.status, res.headers['access-control-allow-origin'], res.headers['access-control-allow-credentials']]).toEqual([200, PARTNER, 'true']);
      const preflight = await request(app.getHttpServer()).options(path).set('Origin', PARTNER).set('Access-Control-Request-Method', 'GET');
      expect([preflight.status, preflight.headers['access-control-allow-origin']]).toEqual([204, PARTNER]);
    }
  }

  it('tells two classes of one name in two modules apart (each its own methods): each route gets its own controller\'s CORS', async () => {
    const [partner, internal] = twoOrdersControllers();
    @Module({ controllers: [partner!] }) class PartnerModule {}
    @Module({ controllers: [internal!] }) class InternalModule {}
    const { app } = await start({ imports: [IdentityCorsModule.forRoot({ policies: credentialed }), PartnerModule, InternalModule] });
    try {
      const internalGet = await request(app.getHttpServer()).get('/internal/orders/1').set('Origin', PARTNER);
      expect([internalGet.text, internalGet.headers['access-control-allow-origin']]).toEqual(['internal', undefined]);
      const internalPreflight = await request(app.getHttpServer()).options('/internal/orders/1').set('Origin', PARTNER).set('Access-Control-Request-Method', 'GET');
      expect(internalPreflight.headers['access-control-allow-origin']).toBeUndefined();
      const partnerGet = await request(app.getHttpServer()).get('/partner/orders/1').set('Origin', PARTNER);
      expect([partnerGet.text, partnerGet.headers['access-control-allow-origin'], partnerGet.headers['access-control-allow-credentials']]).toEqual(['partner', PARTNER, 'true']);
    } finally {
      await app.close();
    }
  });

  it('refuses classes a function makes from one base class, once per method', async () => {
    const error = await startupError({ imports: [IdentityCorsModule.forRoot({ policies: credentialed })], controllers: madeControllers('none') });
    expect(error.problems).toHaveLength(2);
    expect(error.problems[0]).toBe(
      "two controllers named ResourceController share a route method findOne (a base class's) with different CORS metadata (@DisableCors() and @EnableCors('partner')): the library tells which controller a route serves by the name Nest gives its handler, 'ResourceController.findOne' for both. Declare the method in each controller, with its route decorator (@Get(...) findOne() { return super.findOne(); }) (on Nest 12, giving the classes different names works too: Object.defineProperty(TheClass, 'name', { value: 'InternalResourceController' }))",
    );
    expect(error.problems[1]).toMatch(/^two controllers named ResourceController share a route method list /);
  });

  it('the fix the error gives first (each controller declares the methods), applied, starts, and each route gets its own controller\'s CORS (actual requests and preflights)', async () => {
    const { app } = await start({ imports: [IdentityCorsModule.forRoot({ policies: credentialed })], controllers: madeControllers('declare') });
    try {
      await expectEachOwnCors(app);
    } finally {
      await app.close();
    }
  });

  it(`the other fix, classes renamed: ${NEST_NAMES_ROUTE_HANDLERS ? 'starts, each route with its own controller\'s CORS (Nest 12 names route handlers)' : 'refused at bootstrap, asking for the methods to be declared (Nest 11 does not name route handlers)'}`, async () => {
    const metadata = { imports: [IdentityCorsModule.forRoot({ policies: credentialed })], controllers: madeControllers('rename') };
    if (!NEST_NAMES_ROUTE_HANDLERS) {
      const error = await startupError(metadata);
      expect(error.problems.join('\n')).toMatch(/Nest 11 never names them.*Declare the method in each controller/);
      return;
    }
    const { app } = await start(metadata);
    try {
      await expectEachOwnCors(app);
    } finally {
      await app.close();
    }
  });

  it('starts when controllers of one class name have the same CORS metadata', async () => {
    const [partner] = twoOrdersControllers();
    const again = (() => {
      @Controller('partner/archive') @EnableCors('partner')
      class OrdersController { @Get(':id') findOne() { return 'archived'; } }
      return OrdersController;
    })();
    @Module({ controllers: [partner!] }) class FirstModule {}
    @Module({ controllers: [again] }) class SecondModule {}
    const { app } = await start({ imports: [IdentityCorsModule.forRoot({ policies: credentialed }), FirstModule, SecondModule] });
    for (const path of ['/partner/orders/1', '/partner/archive/1']) {
      expect((await request(app.getHttpServer()).get(path).set('Origin', PARTNER)).headers['access-control-allow-origin']).toBe(PARTNER);
    }
    await app.close();
  });
});

describe('a host service or provider that makes options moot is named at startup (RULES 15)', () => {
  @Injectable()
  class TenantCorsPolicyService implements ICorsPolicyService {
    async isOriginAllowed(origin: string) {
      return origin === PARTNER;
    }
  }
  @Module({ providers: [{ provide: ICorsPolicyService, useClass: TenantCorsPolicyService }], exports: [ICorsPolicyService] })
  class TenantModule {}

  const clients = [{ clientId: 'spa', allowedCorsOrigins: ['https://spa.example'] }];

  it.each<[string, Record<string, unknown>, string]>([
    ['identity.clients', { clients }, 'identity.clients is ignored'],
    ['identity.allowedOrigins', { allowedOrigins: ['https://spa.example'] }, 'identity.allowedOrigins is ignored'],
    ['identity.allowAll', { allowAll: true }, 'identity.allowAll is ignored'],
  ])('a host-module ICorsPolicyService with %s: warns which wins and how to silence it', async (_title, identity, ignored) => {
    const { app, logger } = await start({ imports: [TenantModule, IdentityCorsModule.forRoot({ identity })] });
    const warning = logger.at('warn').find((line) => line.includes(ignored));
    expect(warning).toBeDefined();
    expect(warning).toContain('TenantCorsPolicyService, given by an ICorsPolicyService provider in a host module, decides which origins the identity endpoints allow');
    expect(warning).toMatch(/Remove identity\.\w+ from the options to silence this/);
    await app.close();
  });

  it('the corsPolicyService option with identity.clients: warns, naming the option', async () => {
    const { app, logger } = await start({ imports: [IdentityCorsModule.forRoot({ identity: { clients } }, { corsPolicyService: TenantCorsPolicyService })] });
    expect(logger.at('warn').join('\n')).toContain('identity.clients is ignored: TenantCorsPolicyService, given by the corsPolicyService option');
    await app.close();
  });

  it('the corsPolicyService option beside a host-module ICorsPolicyService: warns that the option wins, and it does', async () => {
    class OptionService implements ICorsPolicyService {
      async isOriginAllowed(origin: string) {
        return origin === 'https://option.example';
      }
    }
    const { app, logger } = await start({ imports: [TenantModule, IdentityCorsModule.forRoot({}, { corsPolicyService: { useValue: new OptionService() } })] });
    expect(logger.at('warn').join('\n')).toContain(
      'ICorsPolicyService TenantCorsPolicyService, registered in a host module, is ignored: OptionService, given by the corsPolicyService option, wins. Remove one of them to silence this.',
    );
    const acao = async (origin: string) => (await request(app.getHttpServer()).get('/connect/token').set('Origin', origin)).headers['access-control-allow-origin'];
    expect(await acao('https://option.example')).toBe('https://option.example');
    expect(await acao(PARTNER)).toBeUndefined();
    await app.close();
  });

  it('the policyProvider option with policies and defaultPolicy: warns that they are ignored', async () => {
    const provider = { getPolicy: async () => undefined };
    const { app, logger } = await start({ imports: [IdentityCorsModule.forRoot({ policies, defaultPolicy: 'partner' }, { policyProvider: { useValue: provider } })] });
    expect(logger.at('warn').join('\n')).toContain('policies, defaultPolicy are ignored');
    await app.close();
  });

  it('is silent when the options leave those settings out', async () => {
    const { app, logger } = await start({ imports: [TenantModule, IdentityCorsModule.forRoot({ policies })] });
    expect(logger.at('warn')).toEqual([]);
    await app.close();
  });
});

describe('an async predicate with credentials is asked at startup (RULES 9)', () => {
  it('refuses one that allows an origin no site uses', async () => {
    const error = await startupError({
      imports: [IdentityCorsModule.forRoot({ policies: { open: (b) => b.setIsOriginAllowed(async () => true).allowCredentials() } })],
    });
    expect(error.problems).toEqual([expect.stringMatching(/^policies\.open: a policy that allows credentials with an isOriginAllowed predicate that allowed 'https:\/\/cors-canary\.invalid'.*call disallowCredentials\(\)$/)]);
  });

  it("a host provider's policy, made outside the options, answers no origin once its predicate has allowed one no site uses; the failure is logged", async () => {
    const open = new CorsPolicyBuilder().setIsOriginAllowed(async () => true).allowCredentials().build();
    const own = new CorsPolicyBuilder().setIsOriginAllowed(async (origin) => origin === PARTNER).allowCredentials().build();
    @Controller('x')
    class HostController {
      @Get('open') @EnableCors('open') openRoute() { return 'open'; }
      @Get('own') @EnableCors('own') ownRoute() { return 'own'; }
    }
    const provider = { getPolicy: (_request: unknown, name?: string) => (name === 'open' ? open : name === 'own' ? own : undefined) };
    const { app, logger } = await start({ imports: [IdentityCorsModule.forRoot({ policyProvider: { useValue: provider } })], controllers: [HostController] });
    try {
      for (const origin of ['https://evil.example', PARTNER]) {
        const res = await request(app.getHttpServer()).get('/x/open').set('Origin', origin);
        expect([res.status, res.headers['access-control-allow-origin'], res.headers['access-control-allow-credentials']]).toEqual([200, undefined, undefined]);
        const preflight = await request(app.getHttpServer()).options('/x/open').set('Origin', origin).set('Access-Control-Request-Method', 'GET');
        expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      }
      expect(logger.at('error').join('\n')).toMatch(/isOriginAllowed predicate that allowed 'https:\/\/cors-canary\.invalid'/);
      const allowed = await request(app.getHttpServer()).get('/x/own').set('Origin', PARTNER);
      expect([allowed.headers['access-control-allow-origin'], allowed.headers['access-control-allow-credentials']]).toEqual([PARTNER, 'true']);
      const denied = await request(app.getHttpServer()).get('/x/own').set('Origin', 'https://evil.example');
      expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('starts with one that allows only its own origins, or without credentials', async () => {
    const { app } = await start({
      imports: [
        IdentityCorsModule.forRoot({
          policies: {
            own: (b) => b.setIsOriginAllowed(async (origin) => origin.endsWith('.example')).allowCredentials(),
            open: (b) => b.setIsOriginAllowed(async () => true),
          },
        }),
      ],
    });
    await app.close();
  });
});
