import { createServer, type IncomingMessage } from 'node:http';
import { Controller, Get, Module, Res, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Response } from 'express';
import request from 'supertest';
import { CorsPolicy, DefaultCorsPolicyProvider, EnableCors, IdentityCorsModule, InMemoryCorsPolicyService, useIdentityCors } from 'nest-identity-cors';
import { ExpressCorsMiddleware } from '../../lib/platform/express/express-cors.middleware.js';
import { CaptureLogger } from '../support/capture-logger.js';

// The middleware answers synchronously while every step is synchronous, and starts the Promise and the
// policyTimeout timer only at the first asynchronous step. These cases pin down that the fast path
// behaves exactly as the asynchronous one did.

const A = 'https://a.example';
/** The reason phrase of a supertest response (its Node response, which superagent's types leave out). */
const statusMessage = (res: object) => (res as { res: { statusMessage: string } }).res.statusMessage;
const B = 'https://b.example';

@Controller('h')
class HotController {
  @Get('plain') @EnableCors('listed') plain() { return 'plain'; }
  @Get('late-vary') @EnableCors('listed') lateVary(@Res({ passthrough: true }) res: Response) {
    res.setHeader('Vary', 'Accept-Encoding'); // replaces whatever the middleware set
    return 'late';
  }
  @Get('head-object') @EnableCors('listed') headObject(@Res() res: Response) {
    res.writeHead(200, { Vary: 'Accept-Encoding', 'Content-Type': 'text/plain' }); // Node sets these over the response's own
    res.end('object');
  }
  @Get('head-list') @EnableCors('listed') headList(@Res() res: Response) {
    res.writeHead(200, ['vary', 'Accept-Language', 'Content-Type', 'text/plain']);
    res.end('list');
  }
  @Get('head-message') @EnableCors('listed') headMessage(@Res() res: Response) {
    res.writeHead(200, 'Fine', { Vary: 'Accept-Encoding', 'Content-Type': 'text/plain' });
    res.end('message');
  }
  @Get('head-plain') @EnableCors('listed') headPlain(@Res() res: Response) {
    res.writeHead(201, 'Made');
    res.end('plain');
  }
  @Get('head-twice') @EnableCors('listed') headTwice(@Res() res: Response) {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    try {
      res.writeHead(500);
      res.end('no error');
    } catch (error) {
      res.end((error as { code?: string }).code);
    }
  }
  @Get('slow') @EnableCors('slow') slow() { return 'slow'; }
  @Get('late') @EnableCors('late') late() { return 'late'; }
  @Get('broken') @EnableCors('broken') broken() { return 'broken'; }
}

const policies = {
  listed: (b: import('nest-identity-cors').CorsPolicyBuilder) => b.withOrigins(A),
  // an async predicate that never answers: the timeout must still apply
  slow: (b: import('nest-identity-cors').CorsPolicyBuilder) => b.setIsOriginAllowed(() => new Promise<boolean>(() => {})),
  late: (b: import('nest-identity-cors').CorsPolicyBuilder) => b.setIsOriginAllowed(async (origin) => origin === B),
  broken: (b: import('nest-identity-cors').CorsPolicyBuilder) =>
    b.setIsOriginAllowed(() => {
      throw new Error('predicate exploded');
    }),
};

async function start(imports: unknown[], early: boolean) {
  const logger = new CaptureLogger();
  @Module({ imports: imports as never[], controllers: [HotController] })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger, abortOnError: false });
  if (early) useIdentityCors(app);
  await app.init();
  return { app, logger };
}

describe.each([
  ['module mount', false],
  ['useIdentityCors(app)', true],
])('synchronous and asynchronous decisions (%s)', (_label, early) => {
  let app: INestApplication;
  let logger: CaptureLogger;
  beforeAll(async () => {
    ({ app, logger } = await start([IdentityCorsModule.forRoot({ policies, policyTimeout: 50 })], early));
  });
  afterAll(() => app.close());

  it('gives the same answer to the same origin every time (memoized checks)', async () => {
    for (let i = 0; i < 3; i++) {
      const allowed = await request(app.getHttpServer()).get('/h/plain').set('Origin', A);
      expect(allowed.headers['access-control-allow-origin']).toBe(A);
      const malformed = await request(app.getHttpServer()).get('/h/plain').set('Origin', `${A}/`);
      expect(malformed.status).toBe(200);
      expect(malformed.headers['access-control-allow-origin']).toBeUndefined();
      expect(malformed.headers.vary).toBe('Origin');
    }
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

  it('answers a preflight with a single Vary list', async () => {
    const res = await request(app.getHttpServer()).options('/h/plain').set('Origin', A).set('Access-Control-Request-Method', 'GET');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(A);
    expect(res.headers.vary).toBe('Origin');
  });

  it('decides with an async predicate', async () => {
    expect((await request(app.getHttpServer()).get('/h/late').set('Origin', B)).headers['access-control-allow-origin']).toBe(B);
    expect((await request(app.getHttpServer()).get('/h/late').set('Origin', A)).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('applies policyTimeout to an async predicate that never answers: denied, logged, still served', async () => {
    const res = await request(app.getHttpServer()).get('/h/slow').set('Origin', A);
    expect(res.status).toBe(200);
    expect(res.text).toBe('slow');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(logger.at('error').join('\n')).toMatch(/The CORS decision for https:\/\/a\.example \(policy 'slow'\) did not answer within 50 ms/);
  });

  it('treats a sync predicate that throws as a denial, logged, and still serves the request', async () => {
    const res = await request(app.getHttpServer()).get('/h/broken').set('Origin', A);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers.vary).toBe('Origin');
    expect(logger.at('error').join('\n')).toMatch(/denied because policy 'broken' failed: predicate exploded/);
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
  const provider = new OnlyB(new Map(Object.keys(policies).map((name) => [name, new CorsPolicy({ origins: [A] })])));
  let app: INestApplication;
  beforeAll(async () => {
    ({ app } = await start([IdentityCorsModule.forRoot({ policies, policyProvider: { useValue: provider } })], true));
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
    app = await NestFactory.create(AppModule, { logger: false });
    await app.init();
  });
  afterAll(() => app.close());

  it('uses the replacement, not the built-in index', async () => {
    expect((await request(app.getHttpServer()).get('/connect/userinfo').set('Origin', A)).headers['access-control-allow-origin']).toBeUndefined();
    expect((await request(app.getHttpServer()).get('/connect/userinfo').set('Origin', B)).headers['access-control-allow-origin']).toBe(B);
    expect(asked).toEqual([A, B]);
  });
});

describe('ExpressCorsMiddleware outside Express (no Express response prototype to hook)', () => {
  it('still keeps Vary: Origin on a response whose app replaces Vary later', async () => {
    const { app } = await start([IdentityCorsModule.forRoot({ policies })], false);
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

describe('IdentityCorsModule imported twice in one app', () => {
  it('is a startup error that says to import it once', async () => {
    @Module({ imports: [IdentityCorsModule.forRoot({ policies })] })
    class FeatureModule {}
    await expect(start([IdentityCorsModule.forRoot({ policies }), FeatureModule], false)).rejects.toThrow(
      'IdentityCorsModule is imported more than once in this app (IdentityCorsModule.forRoot or forRootAsync in two modules). Import it once, in AppModule',
    );
  });
});
