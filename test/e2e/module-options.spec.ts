import { Injectable, Module } from '@nestjs/common';
import { IdentityCorsModule, IdentityCorsOptionsError, InMemoryCorsPolicyService, ICorsPolicyService } from 'nest-identity-cors';
import { createApp } from '../support/app.js';
import { acao, clients, IdentityController, PARTNER, server, SPA } from '../support/identity-app.js';
import { policies as namedPolicies, startPolicyRoutes } from '../support/policy-routes.js';

// How the module takes its options: forRoot, forRootAsync (factory, class), and the startup validation
// that reports every bad value at once; and the module imported twice.

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

  it('names an instance given as corsPolicyService or policyProvider without { useValue }, and the fix, which starts and serves', async () => {
    const service = { isOriginAllowed: (origin: string) => origin === SPA };
    expect(() => IdentityCorsModule.forRoot({ corsPolicyService: service as never })).toThrow(
      'corsPolicyService: an object with none of useClass, useValue, useFactory, useExisting: give an instance as corsPolicyService: { useValue: instance }, or a class as corsPolicyService: YourClass',
    );
    expect(() => IdentityCorsModule.forRoot({ policyProvider: { getPolicy: () => undefined } as never })).toThrow(IdentityCorsOptionsError);
    const app = await createApp({ imports: [IdentityCorsModule.forRoot({ corsPolicyService: { useValue: service } })], controllers: [IdentityController] });
    try {
      expect(acao(await server(app).post('/connect/token').set('Origin', SPA))).toBe(SPA);
    } finally {
      await app.close();
    }
  });

  it('catches misspelled option names', async () => {
    await expect(createApp({ imports: [IdentityCorsModule.forRoot({ identiy: {} } as never)] })).rejects.toThrow('identiy is not an option');
  });
});

describe('IdentityCorsModule imported twice in one app', () => {
  it('is a startup error that says to import it once', async () => {
    @Module({ imports: [IdentityCorsModule.forRoot({ policies: namedPolicies })] })
    class FeatureModule {}
    await expect(startPolicyRoutes([IdentityCorsModule.forRoot({ policies: namedPolicies }), FeatureModule], false)).rejects.toThrow(
      'IdentityCorsModule is imported more than once in this app (IdentityCorsModule.forRoot or forRootAsync in two modules). Import it once, in AppModule',
    );
  });
});
