import { ArgumentsHost, Catch, Controller, Get, Post, type ExceptionFilter, type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Response } from 'express';
import request from 'supertest';
import { EnableCors, IdentityCorsModule } from 'nest-identity-cors';
import { createApp } from '../support/app.js';

const A = 'https://a.example';
const SPA = 'https://spa.example';

/** What the app's catch-all filter does to the response's headers before it sends its 500. */
let filterDoes: 'clear' | 'overwrite' = 'clear';

@Catch()
class ClearingFilter implements ExceptionFilter {
  catch(_error: unknown, host: ArgumentsHost) {
    const res = host.switchToHttp().getResponse<Response>();
    if (filterDoes === 'clear') {
      for (const name of res.getHeaderNames()) res.removeHeader(name);
    } else {
      res.set('Access-Control-Allow-Origin', 'https://elsewhere.example');
      res.header('Access-Control-Allow-Credentials', 'false');
      res.header('Access-Control-Expose-Headers', 'X-Request-Id');
    }
    res.set('X-Filter', 'ran');
    res.status(500).json({ error: 'failed' });
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
