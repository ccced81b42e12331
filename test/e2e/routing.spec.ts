import { All, Controller, Get, Module, Post, Put, UseGuards, VersioningType, type CanActivate, type INestApplication } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import request from 'supertest';
import { DisableCors, EnableCors, IdentityCorsModule } from 'nest-identity-cors';
import { createApp } from '../support/app.js';
import { onPlatform } from '../support/platform.js';

const A = 'https://a.example';
const B = 'https://b.example';
const G = 'https://global.example';

let guardCalls = 0;
class CountingGuard implements CanActivate {
  canActivate() {
    guardCalls++;
    return true;
  }
}

@Controller({ path: 'items', version: '1' })
@EnableCors('a')
@UseGuards(CountingGuard)
class ItemsV1Controller {
  @Get() list() { return 'v1 list'; }
  @Get(':id') one() { return 'v1 one'; }
  @Put(':id') @EnableCors('b') replace() { return 'v1 replace'; }
  @Get('secret/:id') @DisableCors() secret() { return 'v1 secret'; }
}

@Controller({ path: 'items', version: '2' })
class ItemsV2Controller {
  @Get() @EnableCors('b') list() { return 'v2 list'; }
}

@Controller('things')
class ThingsController {
  // Declared before the literal route: which one serves GET /things/special is the router's (and Nest's) business;
  // the preflight must follow whichever does.
  @Get(':id') @EnableCors('a') byId() { return 'byId'; }
  @Get('special') @EnableCors('b') special() { return 'special'; }
  // Express 5 (path-to-regexp 8) names its wildcard; Fastify's router refuses a name after `*`.
  @Get(onPlatform({ express: 'files/*path', fastify: 'files/*' })) @EnableCors('b') file() { return 'file'; }
  @All('any') @EnableCors('a') any() { return 'any'; }
  @Post('undecorated') undecorated() { return 'undecorated'; }
}

@Controller('panel')
@EnableCors('b')
class PanelController {
  @Get() panel() { return 'panel'; }
}
@Module({ controllers: [PanelController] })
class AdminModule {}

@Controller()
class HealthController {
  @Get('health') @EnableCors('a') health() { return 'ok'; }
}

const preflight = (app: INestApplication, path: string, method: string, origin: string) =>
  request(app.getHttpServer()).options(path).set('Origin', origin).set('Access-Control-Request-Method', method);

describe('route-aware CORS: preflights follow the handler that serves M P', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createApp(
      {
        imports: [
          IdentityCorsModule.forRoot({
            policies: {
              a: (b) => b.withOrigins(A).allowAnyHeader().withMethods('GET', 'POST', 'PUT', 'DELETE'),
              b: (b) => b.withOrigins(B).allowCredentials().allowAnyMethod(),
              global: (b) => b.withOrigins(G),
            },
            globalPolicy: 'global',
          }),
          AdminModule,
          RouterModule.register([{ path: 'admin', module: AdminModule }]),
        ],
        controllers: [ItemsV1Controller, ItemsV2Controller, ThingsController, HealthController],
      },
      {
        configure: (nest) => {
          nest.setGlobalPrefix('api', { exclude: ['health'] });
          nest.enableVersioning({ type: VersioningType.URI });
        },
      },
    );
  });
  afterAll(() => app.close());
  beforeEach(() => (guardCalls = 0));

  it('answers a preflight under global prefix + URI version with the controller policy, without reaching guards (RULES 5)', async () => {
    const res = await preflight(app, '/api/v1/items', 'GET', A).set('Access-Control-Request-Headers', 'x-trace');
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers['access-control-allow-methods']).toBe('GET,POST,PUT,DELETE');
    expect(res.headers['access-control-allow-headers']).toBe('x-trace');
    expect(res.headers.vary).toBe('Origin, Access-Control-Request-Headers');
    expect(guardCalls).toBe(0);
  });

  it('a preflight for a method Node refuses (lower-case `put`; fetch sends non-standard ones such as `patch` as written) gets no route\'s policy, on both platforms: the global policy', async () => {
    const res = await preflight(app, '/api/v1/items/42', 'put', B);
    expect([res.status, res.headers['access-control-allow-origin'], res.headers['access-control-allow-credentials']]).toEqual([204, undefined, undefined]);
    const global = await preflight(app, '/api/v1/items/42', 'put', G);
    expect([global.status, global.headers['access-control-allow-origin']]).toEqual([204, G]);
    const secret = await preflight(app, '/api/v1/items/secret/1', 'get', G);
    expect(secret.headers['access-control-allow-origin']).toBe(G);
  });

  it('uses the handler policy over the controller policy, for the method the preflight asks about', async () => {
    const put = await preflight(app, '/api/v1/items/42', 'PUT', B);
    expect(put.headers['access-control-allow-origin']).toBe(B);
    expect(put.headers['access-control-allow-credentials']).toBe('true');
    expect(put.headers['access-control-allow-methods']).toBe('PUT');
    const get = await preflight(app, '/api/v1/items/42', 'GET', B);
    expect(get.status).toBe(204);
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('keeps versions apart', async () => {
    expect((await preflight(app, '/api/v2/items', 'GET', B)).headers['access-control-allow-origin']).toBe(B);
    expect((await preflight(app, '/api/v2/items', 'GET', A)).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('honours RouterModule paths', async () => {
    expect((await preflight(app, '/api/admin/panel', 'GET', B)).headers['access-control-allow-origin']).toBe(B);
    const actual = await request(app.getHttpServer()).get('/api/admin/panel').set('Origin', B);
    expect(actual.text).toBe('panel');
    expect(actual.headers['access-control-allow-origin']).toBe(B);
  });

  it('honours routes excluded from the global prefix', async () => {
    expect((await preflight(app, '/health', 'GET', A)).headers['access-control-allow-origin']).toBe(A);
  });

  it('follows the router in overlapping routes: the preflight policy is that of the handler that really serves the path', async () => {
    const served = (await request(app.getHttpServer()).get('/api/things/special')).text;
    const expectedOrigin = served === 'special' ? B : A;
    expect((await preflight(app, '/api/things/special', 'GET', expectedOrigin)).headers['access-control-allow-origin']).toBe(expectedOrigin);
    expect((await preflight(app, '/api/things/other', 'GET', A)).headers['access-control-allow-origin']).toBe(A);
  });

  it("matches params, wildcards, @All, HEAD as GET, and another case and a trailing slash as the platform's router does", async () => {
    expect((await preflight(app, '/api/things/files/a/b/c.txt', 'GET', B)).headers['access-control-allow-origin']).toBe(B);
    expect((await preflight(app, '/api/things/any', 'DELETE', A)).headers['access-control-allow-origin']).toBe(A);
    expect((await preflight(app, '/api/things/any', 'PATCH', A)).headers['access-control-allow-origin']).toBe(A);
    // Express routes any case and a trailing slash; Fastify's router, by default case-sensitive and strict about the
    // trailing slash, serves no route there (404): the preflight gets the global policy.
    const other = onPlatform({ express: { status: 200, text: 'v1 list', origin: A }, fastify: { status: 404, text: undefined, origin: G } });
    const actual = await request(app.getHttpServer()).get('/API/V1/Items/');
    expect(actual.status).toBe(other.status);
    if (other.text !== undefined) expect(actual.text).toBe(other.text);
    expect((await preflight(app, '/API/V1/Items/', 'GET', other.origin)).headers['access-control-allow-origin']).toBe(other.origin);
    const head = await request(app.getHttpServer()).head('/api/v1/items').set('Origin', A);
    expect(head.status).toBe(200);
    expect(head.headers['access-control-allow-origin']).toBe(A);
  });

  it('@DisableCors wins over the controller and the global policy: no headers, preflight not answered', async () => {
    const res = await preflight(app, '/api/v1/items/secret/1', 'GET', A);
    expect(res.status).not.toBe(204);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const actual = await request(app.getHttpServer()).get('/api/v1/items/secret/1').set('Origin', G);
    expect(actual.text).toBe('v1 secret');
    expect(actual.headers['access-control-allow-origin']).toBeUndefined();
    expect(actual.headers.vary).toBeUndefined();
  });

  it('applies the global policy to routes without metadata, and to paths no route serves', async () => {
    const res = await request(app.getHttpServer()).post('/api/things/undecorated').set('Origin', G);
    expect(res.headers['access-control-allow-origin']).toBe(G);
    expect((await preflight(app, '/api/things/undecorated', 'POST', G)).status).toBe(204);
    const missing = await request(app.getHttpServer()).get('/nowhere').set('Origin', G);
    expect(missing.status).toBe(404);
    expect(missing.headers['access-control-allow-origin']).toBe(G);
  });

  it('treats OPTIONS without Access-Control-Request-Method as an ordinary request', async () => {
    const res = await request(app.getHttpServer()).options('/api/v1/items').set('Origin', A);
    expect(res.status).not.toBe(204);
  });

  it('denies with Vary only, and still runs the actual request (RULES 7, 8)', async () => {
    const res = await request(app.getHttpServer()).get('/api/v1/items').set('Origin', 'https://evil.example');
    expect(res.status).toBe(200);
    expect(res.text).toBe('v1 list');
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    expect(res.headers.vary).toBe('Origin');
    expect(guardCalls).toBe(1);
  });

  it('writes only Vary: Origin on a CORS route without Origin (RULES 4)', async () => {
    const res = await request(app.getHttpServer()).get('/api/v1/items');
    expect(res.headers.vary).toBe('Origin');
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('rejects an invalid Origin without opening CORS, and keeps serving', async () => {
    for (const origin of ['https://a.example/', 'HTTPS://A.EXAMPLE', 'https://a.example.evil', 'null', 'x'.repeat(1000)]) {
      const res = await request(app.getHttpServer()).get('/api/v1/items').set('Origin', origin);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});

describe('startup checks on policy names', () => {
  @Controller('x')
  class Typo {
    @Get() @EnableCors('partenr') get() { return 'x'; }
  }
  @Controller('y')
  class NoDefault {
    @Get() @EnableCors() get() { return 'y'; }
  }

  it('fails at startup when @EnableCors names an unknown policy, naming the handler', async () => {
    await expect(createApp({ imports: [IdentityCorsModule.forRoot({ policies: { partner: (b) => b.withOrigins(A) } })], controllers: [Typo] })).rejects.toThrow(
      "@EnableCors('partenr') on Typo.get names no policy: define it in policies (known: partner)",
    );
  });

  it('fails at startup when @EnableCors() is used without a default policy', async () => {
    await expect(createApp({ imports: [IdentityCorsModule.forRoot({})], controllers: [NoDefault] })).rejects.toThrow('no defaultPolicy is configured');
  });

  it('serves @EnableCors() with the default policy, given inline or by name', async () => {
    for (const defaultPolicy of [(b: import('nest-identity-cors').CorsPolicyBuilder) => b.withOrigins(A), 'named'] as const) {
      const app = await createApp({ imports: [IdentityCorsModule.forRoot({ policies: { named: (b) => b.withOrigins(A) }, defaultPolicy })], controllers: [NoDefault] });
      expect((await request(app.getHttpServer()).get('/y').set('Origin', A)).headers['access-control-allow-origin']).toBe(A);
      await app.close();
    }
  });
});
