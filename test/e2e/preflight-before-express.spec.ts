import { Controller, Get, Module, Options, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import { DisableCors, EnableCors, IdentityCorsModule, useIdentityCors } from 'nest-identity-cors';
import { CaptureLogger } from '../support/capture-logger.js';

const A = 'https://a.example';
const CLIENT = 'https://spa.example';

@Controller()
class AppController {
  @Get('api/items') @EnableCors('api') items() { return ['item']; }
  @Post('api/items') @EnableCors('partner') create() { return 'created'; }
  @Get('api/private') @DisableCors() private() { return 'private'; }
  @Options('api/private') @DisableCors() privateOptions() { return 'routed'; }
  @Get('connect/userinfo') userinfo() { return { sub: '1' }; }
}

describe('useIdentityCors(app, { preflightBeforeExpress: true })', () => {
  let app: INestApplication;
  const seenByEarlierMiddleware: string[] = [];

  beforeAll(async () => {
    @Module({
      imports: [
        IdentityCorsModule.forRoot({
          policies: { api: (b) => b.withOrigins(A).withHeaders('Authorization'), partner: (b) => b.withOrigins('https://partner.example').withMethods('POST') },
          identity: { clients: [{ clientId: 'spa', allowedCorsOrigins: [CLIENT] }], preflightCacheDuration: 600 },
        }),
      ],
      controllers: [AppController],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: new CaptureLogger(), abortOnError: false });
    app.use((req: { method: string; url: string }, _res: unknown, next: () => void) => {
      seenByEarlierMiddleware.push(`${req.method} ${req.url}`);
      next();
    });
    useIdentityCors(app, { preflightBeforeExpress: true });
    await app.init();
  });
  afterAll(() => app.close());

  const preflight = (path: string, origin: string, method: string, headers?: string) => {
    const req = request(app.getHttpServer()).options(path).set('Origin', origin).set('Access-Control-Request-Method', method);
    return headers === undefined ? req : req.set('Access-Control-Request-Headers', headers);
  };

  it("answers a route's preflight with that route's policy, before Express", async () => {
    const res = await preflight('/api/items', A, 'GET', 'authorization');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers['access-control-allow-headers']).toBe('Authorization');
    expect(res.headers.vary).toBe('Origin');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(seenByEarlierMiddleware).not.toContain('OPTIONS /api/items');
    // the handler of POST on the same path has another policy
    const post = await preflight('/api/items', A, 'POST');
    expect(post.status).toBe(204);
    expect(post.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers identity preflights from the clients', async () => {
    const res = await preflight('/connect/userinfo', CLIENT, 'GET', 'authorization');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(CLIENT);
    expect(res.headers['access-control-allow-headers']).toBe('authorization');
    expect(res.headers['access-control-max-age']).toBe('600');
    const denied = await preflight('/connect/userinfo', A, 'GET');
    expect(denied.status).toBe(204);
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('hands preflights of routes without CORS, and every other request, to Express unchanged', async () => {
    const routed = await preflight('/api/private', A, 'GET');
    expect(routed.status).toBe(200);
    expect(routed.text).toBe('routed');
    expect(routed.headers['access-control-allow-origin']).toBeUndefined();
    expect(seenByEarlierMiddleware).toContain('OPTIONS /api/private');
    const get = await request(app.getHttpServer()).get('/api/items').set('Origin', A);
    expect(get.status).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBe(A);
    expect(get.headers['x-powered-by']).toBe('Express');
    expect(seenByEarlierMiddleware).toContain('GET /api/items');
  });

  it('lets Express decide a preflight that may come from the server itself (its scheme depends on trust proxy)', async () => {
    const res = await request(app.getHttpServer())
      .options('/connect/userinfo')
      .set('Host', 'spa.example')
      .set('Origin', CLIENT)
      .set('Access-Control-Request-Method', 'GET');
    expect(res.status).toBe(204);
    expect(seenByEarlierMiddleware).toContain('OPTIONS /connect/userinfo');
  });
});
