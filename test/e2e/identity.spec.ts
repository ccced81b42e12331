import { Controller, Get, Inject, Injectable, Module, Post, type INestApplication } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import {
  CorsPolicy,
  DefaultCorsPolicyProvider,
  DefaultCorsPolicyService,
  EnableCors,
  ICorsPolicyProvider,
  ICorsPolicyService,
  IdentityCorsModule,
  IdentityCorsOptionsError,
  InMemoryCorsPolicyService,
} from 'nest-identity-cors';
import { createApp } from '../support/app.js';
import { CaptureLogger } from '../support/capture-logger.js';

const SPA = 'https://spa.example';
const PARTNER = 'https://partner.example';
const EVIL = 'https://evil.example';

@Controller()
class IdentityController {
  @Get('.well-known/openid-configuration') discovery() { return { issuer: 'https://id.example' }; }
  @Get('.well-known/openid-configuration/jwks') jwks() { return { keys: [] }; }
  @Post('connect/token') token() { return { access_token: 't' }; }
  @Get('connect/userinfo') userinfo() { return { sub: 'alice' }; }
  @Post('connect/revocation') revoke() { return ''; }
  @Get('connect/authorize') authorize() { return 'login page'; }
}

@Controller('api')
class ApiController {
  @Get('partner') @EnableCors('partner') partner() { return 'partner'; }
  @Get('plain') plain() { return 'plain'; }
}

const clients = [
  { clientId: 'spa', allowedCorsOrigins: [SPA] },
  { clientId: 'off', allowedCorsOrigins: ['https://off.example'], enabled: false },
];
const policies = { partner: (b: import('nest-identity-cors').CorsPolicyBuilder) => b.withOrigins(PARTNER).allowCredentials() };
const server = (app: INestApplication) => request(app.getHttpServer());
const acao = (res: request.Response) => res.headers['access-control-allow-origin'];

describe('identity endpoints with in-memory clients', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createApp({ imports: [IdentityCorsModule.forRoot({ policies, identity: { clients, preflightCacheDuration: 600 } })], controllers: [IdentityController, ApiController] });
  });
  afterAll(() => app.close());

  it.each([
    ['get', '/.well-known/openid-configuration'],
    ['get', '/.well-known/openid-configuration/jwks'],
    ['post', '/connect/token'],
    ['get', '/connect/userinfo'],
    ['post', '/connect/revocation'],
  ] as const)('%s %s allows a listed client origin (RULES 11)', async (method, path) => {
    const res = await server(app)[method](path).set('Origin', SPA);
    expect(acao(res)).toBe(SPA);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers['access-control-expose-headers']).toBe('WWW-Authenticate,DPoP-Nonce');
    expect(res.headers.vary).toBe('Origin');
  });

  it('answers identity preflights with the requested method and headers and the configured max-age', async () => {
    const res = await server(app)
      .options('/connect/token')
      .set('Origin', SPA)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type, dpop');
    expect(res.status).toBe(204);
    expect(acao(res)).toBe(SPA);
    expect(res.headers['access-control-allow-methods']).toBe('POST');
    expect(res.headers['access-control-allow-headers']).toBe('content-type,dpop');
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers.vary).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
  });

  it('denies unlisted origins and disabled clients, and the endpoint still runs (RULES 7)', async () => {
    for (const origin of [EVIL, 'https://off.example', PARTNER, 'null']) {
      const res = await server(app).post('/connect/token').set('Origin', origin);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ access_token: 't' });
      expect(acao(res)).toBeUndefined();
    }
  });

  it('does not apply to other identity-looking paths', async () => {
    expect(acao(await server(app).get('/connect/authorize').set('Origin', SPA))).toBeUndefined();
  });

  it('skips CORS for the server origin itself', async () => {
    const res = await server(app).get('/connect/userinfo').set('Host', 'id.example:8443').set('Origin', 'http://id.example:8443');
    expect(acao(res)).toBeUndefined();
  });

  it('skips CORS for the server origin even when a client lists it, however Host spells it', async () => {
    const own = ['http://id.example', 'http://id.example:8443'];
    const selfListed = await createApp({
      imports: [IdentityCorsModule.forRoot({ identity: { clients: [{ clientId: 'self', allowedCorsOrigins: own }] } })],
      controllers: [IdentityController],
    });
    try {
      const userinfo = (host: string, origin: string) => server(selfListed).get('/connect/userinfo').set('Host', host).set('Origin', origin);
      expect(acao(await userinfo('id.example:8443', own[1]!))).toBeUndefined();
      expect(acao(await userinfo('ID.example:80', own[0]!))).toBeUndefined();
      // from another host the same origins are cross-origin, and allowed
      expect(acao(await userinfo('other.example', own[0]!))).toBe(own[0]);
      expect(acao(await userinfo('id.example:3000', own[1]!))).toBe(own[1]);
    } finally {
      await selfListed.close();
    }
  });

  it("leaves the host's policies and decorators as if the identity layer were not there (RULES 12)", async () => {
    const partner = await server(app).get('/api/partner').set('Origin', PARTNER);
    expect(acao(partner)).toBe(PARTNER);
    expect(partner.headers['access-control-allow-credentials']).toBe('true');
    expect(acao(await server(app).get('/api/partner').set('Origin', SPA))).toBeUndefined();
    const plain = await server(app).get('/api/plain').set('Origin', SPA);
    expect(acao(plain)).toBeUndefined();
    expect(plain.headers.vary).toBeUndefined();
  });
});

describe('DefaultCorsPolicyService through options', () => {
  it('allowedOrigins allows exactly those origins', async () => {
    const app = await createApp({ imports: [IdentityCorsModule.forRoot({ identity: { allowedOrigins: ['HTTPS://SPA.example:443'] } })], controllers: [IdentityController] });
    expect(acao(await server(app).get('/connect/userinfo').set('Origin', SPA))).toBe(SPA);
    expect(acao(await server(app).get('/connect/userinfo').set('Origin', EVIL))).toBeUndefined();
    expect(app.get(ICorsPolicyService)).toBeInstanceOf(DefaultCorsPolicyService);
    await app.close();
  });

  it('denies everything by default', async () => {
    const app = await createApp({ imports: [IdentityCorsModule.forRoot({})], controllers: [IdentityController] });
    expect(acao(await server(app).get('/connect/userinfo').set('Origin', SPA))).toBeUndefined();
    await app.close();
  });

  it('allowAll allows any origin (but not null) and warns at startup', async () => {
    const logger = new CaptureLogger();
    @Module({ imports: [IdentityCorsModule.forRoot({ identity: { allowAll: true } })], controllers: [IdentityController] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger, abortOnError: false });
    await app.init();
    expect(acao(await server(app).get('/connect/userinfo').set('Origin', EVIL))).toBe(EVIL);
    expect(acao(await server(app).get('/connect/userinfo').set('Origin', 'null'))).toBeUndefined();
    expect(logger.at('warn').join()).toMatch(/allowAll is true.*Use with caution/);
    await app.close();
  });

  it('custom corsPaths and corsPolicyName', async () => {
    @Controller('oauth') class OAuth { @Post('token') token() { return 'ok'; } }
    const app = await createApp({
      imports: [IdentityCorsModule.forRoot({ identity: { corsPaths: ['/oauth/token'], corsPolicyName: 'Identity', allowedOrigins: [SPA] } })],
      controllers: [OAuth, IdentityController],
    });
    expect(acao(await server(app).post('/oauth/token').set('Origin', SPA))).toBe(SPA);
    expect(acao(await server(app).post('/connect/token').set('Origin', SPA))).toBeUndefined();
    await app.close();
  });

  it('logs denials with their reason at debug level (RULES 13)', async () => {
    const logger = new CaptureLogger();
    @Module({ imports: [IdentityCorsModule.forRoot({ policies, identity: { clients } })], controllers: [IdentityController, ApiController] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger, abortOnError: false });
    await app.init();
    await server(app).post('/connect/token').set('Origin', EVIL);
    await server(app).get('/api/partner').set('Origin', EVIL);
    await server(app).get('/api/partner').set('Origin', 'https://bad.example/');
    const debug = logger.at('debug');
    // One line per denied request (RULES 21), with its reason code, the policy and an example.
    expect(debug).toEqual([
      `CORS request denied (service-denied, policy 'IdentityServer'): ICorsPolicyService did not allow the origin; e.g. Origin "${EVIL}" to "/connect/token"`,
      `CORS request denied (origin-not-allowed, policy 'partner'): the policy does not allow the origin; e.g. Origin "${EVIL}" to "/api/partner"`,
      `CORS request denied (origin-invalid, policy 'partner'): the Origin header is not a serialized origin; e.g. Origin "https://bad.example/" to "/api/partner"`,
    ]);
    await app.close();
  });
});

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

describe('forRootAsync with a config service', () => {
  @Injectable()
  class ConfigService {
    private readonly values: Record<string, string> = { CORS_ORIGINS: `${SPA},${PARTNER}`, PREFLIGHT_MAX_AGE: '120' };
    get(key: string): string {
      return this.values[key];
    }
  }
  @Module({ providers: [ConfigService], exports: [ConfigService] })
  class ConfigModule {}

  it('builds options from injected configuration', async () => {
    const app = await createApp({
      imports: [
        IdentityCorsModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            identity: { allowedOrigins: config.get('CORS_ORIGINS').split(','), preflightCacheDuration: Number(config.get('PREFLIGHT_MAX_AGE')) },
          }),
        }),
      ],
      controllers: [IdentityController],
    });
    const res = await server(app).options('/connect/token').set('Origin', PARTNER).set('Access-Control-Request-Method', 'POST');
    expect(acao(res)).toBe(PARTNER);
    expect(res.headers['access-control-max-age']).toBe('120');
    await app.close();
  });

  it('supports useClass', async () => {
    class OptionsFactory {
      create() {
        return { identity: { clients } };
      }
    }
    const app = await createApp({ imports: [IdentityCorsModule.forRootAsync({ useClass: OptionsFactory })], controllers: [IdentityController] });
    expect(acao(await server(app).get('/connect/userinfo').set('Origin', SPA))).toBe(SPA);
    expect(app.get(ICorsPolicyService)).toBeInstanceOf(InMemoryCorsPolicyService);
    await app.close();
  });

  it('validates the options the factory returns', async () => {
    await expect(
      createApp({ imports: [IdentityCorsModule.forRootAsync({ useFactory: () => ({ identity: { allowedOrigins: ['https://foo:123/'] } }) })], controllers: [IdentityController] }),
    ).rejects.toThrow("'https://foo:123/' is a URL, not an origin: use 'https://foo:123'");
  });
});

describe('options are validated at startup; one error lists every problem', () => {
  it('names each bad value, the client and the fix', async () => {
    const attempt = createApp({
      imports: [
        IdentityCorsModule.forRoot({
          policies: { bad: (b) => b.withOrigins('https://api.example/v1'), creds: (b) => b.allowAnyOrigin().allowCredentials() },
          globalPolicy: 'missing',
          identity: {
            clients: [
              { clientId: 'spa', allowedCorsOrigins: ['https://foo:123/'] },
              { clientId: 'mobile', allowedCorsOrigins: ['capacitor://localhost', 'not an origin'] },
            ],
            allowedOrigins: ['https://ok.example', 'https://x.example?'],
            corsPaths: ['connect/token'],
            preflightCacheDuration: -5,
          },
        }),
      ],
    });
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityCorsOptionsError);
    const { message } = error as Error;
    expect(message).toContain("client 'spa': allowedCorsOrigins[0] 'https://foo:123/' is a URL, not an origin: use 'https://foo:123'");
    expect(message).toContain("client 'mobile': allowedCorsOrigins[1] 'not an origin' is not an origin");
    expect(message).toContain("[1] 'https://x.example?' is a URL, not an origin: use 'https://x.example'");
    expect(message).toContain(`"connect/token" is not a path: CORS paths start with '/'`);
    expect(message).toContain('identity.preflightCacheDuration -5 is not a whole number of seconds ≥ 0: use 600');
    expect(message).toContain('identity.clients and identity.allowedOrigins are both set, and clients would win');
    expect(message).toContain("policies.bad: 'https://api.example/v1' is a URL, not an origin: use 'https://api.example'");
    expect(message).toContain('policies.creds: A policy cannot allow any origin and credentials');
    expect(message).toContain("globalPolicy 'missing' names no policy");
    expect((error as IdentityCorsOptionsError).problems).toHaveLength(9);
  });

  it('catches misspelled option names', async () => {
    await expect(createApp({ imports: [IdentityCorsModule.forRoot({ identiy: {} } as never)] })).rejects.toThrow('identiy is not an option');
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
