import { ArgumentsHost, Catch, Controller, Get, Post, type ExceptionFilter, type INestApplication } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import request from 'supertest';
import { EnableCors, IdentityCorsModule } from 'nest-identity-cors';
import { createApp } from '../support/app.js';

const A = 'https://a.example';
const SPA = 'https://spa.example';

/** What the app's catch-all filter does to the response's headers before it sends its 500. */
let filterDoes: 'clear' | 'overwrite' = 'clear';

/**
 * Written through Nest's HttpAdapter (Express: `res.set`, `res.status().json()`; Fastify: `reply.header`,
 * `reply.status().send()`), as a platform-neutral filter is; clearing reaches Node's own response too, where Express
 * keeps every header and the Fastify edge writes its own (Fastify's reply keeps the app's).
 */
@Catch()
class ClearingFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(_error: unknown, host: ArgumentsHost) {
    const http = this.adapterHost.httpAdapter;
    const res = host.switchToHttp().getResponse<ServerResponse | FastifyReply>();
    if (filterDoes === 'clear') {
      const raw = 'raw' in res ? res.raw : res;
      for (const name of raw.getHeaderNames()) raw.removeHeader(name);
      if ('raw' in res) for (const name of Object.keys(res.getHeaders())) res.removeHeader(name);
    } else {
      http.setHeader(res, 'Access-Control-Allow-Origin', 'https://elsewhere.example');
      http.setHeader(res, 'Access-Control-Allow-Credentials', 'false');
      http.setHeader(res, 'Access-Control-Expose-Headers', 'X-Request-Id');
    }
    http.setHeader(res, 'X-Filter', 'ran');
    http.reply(res, { error: 'failed' }, 500);
  }
}

@Controller()
class FailingController {
  @Get('api/fail') @EnableCors('partner') fail(): string { throw new Error('boom'); }
  @Get('open/fail') open(): string { throw new Error('boom'); }
  @Post('connect/token') token(): string { throw new Error('boom'); }
}

describe.each([
  ['handleBeforeExpress (the default)', true],
  ['handleBeforeExpress: false', false],
])('CORS headers survive an exception filter that clears or replaces them (%s)', (_label, handleBeforeExpress) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createApp({
      imports: [
        IdentityCorsModule.forRoot({
          policies: {
            partner: (b) => b.withOrigins(A).allowCredentials().withExposedHeaders('X-Total'),
            global: (b) => b.allowAnyOrigin().withExposedHeaders('X-Page'),
          },
          globalPolicy: 'global',
          handleBeforeExpress,
          identity: { clients: [{ clientId: 'spa', allowedCorsOrigins: [SPA] }] },
        }),
      ],
      controllers: [FailingController],
      providers: [{ provide: APP_FILTER, useClass: ClearingFilter }],
    }, { explainerAgreement: false }); // the filter writes access-control headers of its own
  });
  afterAll(() => app.close());
  const server = () => request(app.getHttpServer());

  describe.each(['clear', 'overwrite'] as const)('when the filter does %s', (what) => {
    beforeAll(() => {
      filterDoes = what;
    });

    it("a named policy's allowed error response keeps Allow-Origin, Allow-Credentials, Expose-Headers and Vary", async () => {
      const res = await server().get('/api/fail').set('Origin', A);
      expect(res.status).toBe(500);
      expect(res.headers['x-filter']).toBe('ran');
      expect(res.headers['access-control-allow-origin']).toBe(A);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-expose-headers']).toBe(what === 'clear' ? 'X-Total' : 'X-Request-Id, X-Total');
      expect(res.headers.vary).toBe('Origin');
    });

    it("the any-origin global policy's error response keeps `*` and its exposed headers", async () => {
      const res = await server().get('/open/fail').set('Origin', A);
      expect(res.status).toBe(500);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-expose-headers']).toBe(what === 'clear' ? 'X-Page' : 'X-Request-Id, X-Page');
    });

    it("an identity path's error response keeps the client's origin and WWW-Authenticate, DPoP-Nonce exposed", async () => {
      const res = await server().post('/connect/token').set('Origin', SPA);
      expect(res.status).toBe(500);
      expect(res.headers['access-control-allow-origin']).toBe(SPA);
      expect(res.headers['access-control-expose-headers']).toBe(what === 'clear' ? 'WWW-Authenticate,DPoP-Nonce' : 'X-Request-Id, WWW-Authenticate, DPoP-Nonce');
      expect(res.headers.vary).toBe('Origin');
    });

    it('a denied error response gets no Access-Control-Allow-Origin from the library, only Vary: Origin', async () => {
      const res = await server().post('/connect/token').set('Origin', 'https://evil.example');
      expect(res.status).toBe(500);
      expect(res.headers.vary).toBe('Origin');
      if (what === 'clear') expect(res.headers['access-control-allow-origin']).toBeUndefined();
      // The app's own header on a denied response is the app's to send.
      else expect(res.headers['access-control-allow-origin']).toBe('https://elsewhere.example');
    });
  });

  it('preflights are answered before routing, so the filter never sees them', async () => {
    filterDoes = 'clear';
    const res = await server().options('/api/fail').set('Origin', A).set('Access-Control-Request-Method', 'GET');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['x-filter']).toBeUndefined();
  });
});
