import { createServer } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { IdentityCorsModule } from 'nest-identity-cors';
import { ExpressCorsMiddleware } from '../../lib/platform/express/express-cors.middleware.js';
import { A, MOUNTS, policies, startPolicyRoutes, statusMessage } from '../support/policy-routes.js';

// Vary: Origin stays on every response whose answer depends on Origin, whatever the handler does to Vary
// (sets it later, passes it to writeHead in any form), and a preflight gets one Vary list.

describe.each(MOUNTS)('Vary: Origin is kept beside the handler\'s own Vary (%s)', (_label, early) => {
  let app: INestApplication;
  beforeAll(async () => {
    ({ app } = await startPolicyRoutes([IdentityCorsModule.forRoot({ policies, policyTimeout: 50 })], early));
  });
  afterAll(() => app.close());

  it("keeps the app's own Vary and adds Origin to it, even when the app sets Vary after the middleware", async () => {
    const res = await request(app.getHttpServer()).get('/h/vary-header').set('Origin', A);
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers.vary?.split(/\s*,\s*/).sort()).toEqual(['Accept-Encoding', 'Origin']);
  });

  it("keeps Vary: Origin when the handler replaces Vary later", async () => {
    const res = await request(app.getHttpServer()).get('/h/late-vary').set('Origin', A);
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers.vary).toBe('Accept-Encoding, Origin');
    const none = await request(app.getHttpServer()).get('/h/late-vary');
    expect(none.headers.vary).toBe('Accept-Encoding, Origin');
  });

  it('keeps Vary: Origin when the handler passes its own Vary to writeHead', async () => {
    for (const [path, vary] of [
      ['/h/head-object', 'Accept-Encoding, Origin'],
      ['/h/head-list', 'Accept-Language, Origin'],
      ['/h/head-message', 'Accept-Encoding, Origin'],
    ]) {
      const allowed = await request(app.getHttpServer()).get(path!).set('Origin', A);
      expect(allowed.headers['access-control-allow-origin']).toBe(A);
      expect(allowed.headers.vary).toBe(vary);
      const none = await request(app.getHttpServer()).get(path!);
      expect(none.headers.vary).toBe(vary);
    }
    const message = await request(app.getHttpServer()).get('/h/head-message').set('Origin', A);
    expect(statusMessage(message)).toBe('Fine');
  });

  it('lets a second writeHead fail as Node makes it fail, after the first sent Vary: Origin', async () => {
    const res = await request(app.getHttpServer()).get('/h/head-twice').set('Origin', A);
    expect(res.status).toBe(200);
    expect(res.headers.vary).toBe('Origin');
    expect(res.text).toBe('ERR_HTTP_HEADERS_SENT');
  });

  it('passes writeHead(status, message) through as it was called', async () => {
    const res = await request(app.getHttpServer()).get('/h/head-plain').set('Origin', A);
    expect(res.status).toBe(201);
    expect(statusMessage(res)).toBe('Made');
    expect(res.headers.vary).toBe('Origin');
    expect(res.text).toBe('plain');
  });

  it("puts an any-origin decision's `*` back over the Access-Control-Allow-Origin passed to writeHead, adding no Vary (RULES 19, 20)", async () => {
    const res = await request(app.getHttpServer()).get('/h/head-open').set('Origin', A);
    expect(res.text).toBe('open');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers.vary).toBeUndefined();
  });

  it('answers a preflight with a single Vary list', async () => {
    const res = await request(app.getHttpServer()).options('/h/plain').set('Origin', A).set('Access-Control-Request-Method', 'GET');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers.vary).toBe('Origin');
  });
});

describe('ExpressCorsMiddleware outside Express (no Express response prototype to hook)', () => {
  it('still keeps Vary: Origin on a response whose app replaces Vary later', async () => {
    const { app } = await startPolicyRoutes([IdentityCorsModule.forRoot({ policies })], false);
    const middleware = app.get(ExpressCorsMiddleware);
    const server = createServer((req, res) =>
      middleware.use(req, res, () => {
        res.setHeader('Vary', 'Accept-Encoding');
        res.end('late');
      }),
    );
    try {
      const res = await request(server).get('/h/late-vary').set('Origin', A);
      expect(res.headers['access-control-allow-origin']).toBe(A);
      expect(res.headers.vary).toBe('Accept-Encoding, Origin');
      const other = await request(server).get('/h/late-vary').set('Origin', 'https://other.example');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      expect(other.headers.vary).toBe('Accept-Encoding, Origin');
    } finally {
      await app.close();
    }
  });
});
