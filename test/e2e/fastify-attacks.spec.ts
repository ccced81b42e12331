/**
 * Requests and app set-ups that only Fastify has (its own options and hooks), against the guarantees of
 * docs/rules.md. Real Nest apps on FastifyAdapter; run once, in the project "fastify" (jest.config.js).
 */
import 'reflect-metadata';
import { IncomingMessage, type Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Controller, Get, Header, Module, Post, type ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { DisableCors, EnableCors, IdentityCorsModule, type ICorsPolicyService, useIdentityCors } from 'nest-identity-cors';
import { FastifyCorsEdge } from '../../lib/platform/fastify/fastify-cors.hook.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { corsHeaders, rawRequest } from '../support/raw-http.js';

const SPA = 'https://spa.example';

async function fastifyApp(
  metadata: ModuleMetadata,
  adapter: FastifyAdapter,
  logger: CaptureLogger | false,
  configure?: (app: NestFastifyApplication) => void,
): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(adapter, { logger });
  configure?.(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  await app.listen(0, '127.0.0.1');
  return app;
}

@Controller('connect')
class TokenController {
  @Post('token') token() { return 'token'; }
}

/** Allows every origin, after `delayMs`. */
class SlowPolicyService implements ICorsPolicyService {
  static delayMs = 0;
  async isOriginAllowed(): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, SlowPolicyService.delayMs));
    return true;
  }
}

describe("Fastify's handlerTimeout answers while an ICorsPolicyService is still deciding", () => {
  const HANDLER_TIMEOUT = 100;
  let app: NestFastifyApplication;
  let server: Server;
  const logger = new CaptureLogger();
  beforeAll(async () => {
    SlowPolicyService.delayMs = 3 * HANDLER_TIMEOUT;
    app = await fastifyApp(
      { imports: [IdentityCorsModule.forRoot({ policyTimeout: 10 * HANDLER_TIMEOUT, corsPolicyService: SlowPolicyService })], controllers: [TokenController] },
      // Fastify's types for this Fastify 5 option lag behind it.
      new FastifyAdapter({ handlerTimeout: HANDLER_TIMEOUT } as {}),
      logger,
    );
    server = app.getHttpServer();
  });
  afterAll(() => app.close());

  it('warns at startup that handlerTimeout is not longer than policyTimeout, naming both and a policyTimeout that fits', () => {
    expect(logger.at('warn')).toEqual(
      expect.arrayContaining([expect.stringContaining(`Fastify's handlerTimeout (${HANDLER_TIMEOUT} ms) is not longer than policyTimeout (${10 * HANDLER_TIMEOUT} ms)`)]),
    );
    expect(logger.at('warn').join('\n')).toContain(`policyTimeout: ${HANDLER_TIMEOUT / 2}`);
  });

  it('leaves the response Fastify sent alone once the decision comes, and logs no failure of its own', async () => {
    const actual = await rawRequest(server, 'POST', '/connect/token', { Origin: SPA });
    // Fastify's 503, sent before the library decided: no CORS headers (a browser app cannot read it).
    expect([actual.status, corsHeaders(actual)]).toEqual([503, {}]);
    // The decisions come after the responses: the library has nothing left to write.
    await new Promise((resolve) => setTimeout(resolve, 4 * HANDLER_TIMEOUT));
    expect(logger.at('error').filter((line) => line.includes('CORS handling failed'))).toEqual([]);
  });

  it('answers a preflight once its decision comes: answered on the HTTP server, before Fastify, it has no handlerTimeout (as on Express)', async () => {
    const preflight = await rawRequest(server, 'OPTIONS', '/connect/token', { Origin: SPA, 'Access-Control-Request-Method': 'POST' });
    expect([preflight.status, preflight.headers['access-control-allow-origin']]).toEqual([204, SPA]);
  });
});

describe('Fastify: the policyTimeout the handlerTimeout warning suggests', () => {
  it('is accepted without the warning', async () => {
    const logger = new CaptureLogger();
    const app = await fastifyApp(
      { imports: [IdentityCorsModule.forRoot({ policyTimeout: 50, corsPolicyService: SlowPolicyService })], controllers: [TokenController] },
      new FastifyAdapter({ handlerTimeout: 100 } as {}),
      logger,
    );
    try {
      expect(logger.at('warn').filter((line) => line.includes('handlerTimeout'))).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

const A = 'https://a.example';
const EVIL = 'https://evil.example';

@Controller()
class HookedRoutesController {
  @Get('secret') @DisableCors() @Header('x-handler', 'secret') secret() { return 'secret'; }
  @Get('items/:id') @EnableCors('a') @Header('x-handler', 'item') item() { return 'item'; }
}

/** Routes whose onRoute options an app's hook changes: each must keep its own CORS metadata, not get the global (any origin) policy. */
describe.each([
  [
    'wraps every handler (a hook added on the instance before init, so before the library’s)',
    (app: NestFastifyApplication) =>
      app.getHttpAdapter().getInstance().addHook('onRoute', (route) => {
        const handler = route.handler;
        route.handler = function timed(this: unknown, ...args: Parameters<typeof handler>) {
          return handler.apply(this as never, args);
        };
      }),
    '/secret',
  ],
  [
    'moves a route to another url (a hook added after the library mounted, so after the library’s)',
    (app: NestFastifyApplication) => {
      useIdentityCors(app);
      app.getHttpAdapter().getInstance().addHook('onRoute', (route) => {
        if (route.url === '/secret') route.url = '/hidden';
      });
    },
    '/hidden',
  ],
])('Fastify: an onRoute hook of the app that %s', (_name, configure, secretPath) => {
  let app: NestFastifyApplication;
  let server: Server;
  beforeAll(async () => {
    app = await fastifyApp(
      { imports: [IdentityCorsModule.forRoot({ policies: { a: (b) => b.withOrigins(A), any: (b) => b.allowAnyOrigin() }, globalPolicy: 'any' })], controllers: [HookedRoutesController] },
      new FastifyAdapter(),
      false,
      configure,
    );
    server = app.getHttpServer();
  });
  afterAll(() => app.close());

  it('leaves a @DisableCors route without CORS headers, its preflight to routing', async () => {
    const actual = await rawRequest(server, 'GET', secretPath, { Origin: EVIL });
    const preflight = await rawRequest(server, 'OPTIONS', secretPath, { Origin: EVIL, 'Access-Control-Request-Method': 'GET' });
    expect([actual.status, actual.headers['x-handler'], corsHeaders(actual)]).toEqual([200, 'secret', {}]);
    expect([preflight.status, corsHeaders(preflight)]).toEqual([404, {}]);
  });

  it("gives a route its own policy: an origin it does not list is denied, with Vary", async () => {
    const actual = await rawRequest(server, 'GET', '/items/1', { Origin: EVIL });
    const preflight = await rawRequest(server, 'OPTIONS', '/items/1', { Origin: EVIL, 'Access-Control-Request-Method': 'GET' });
    expect([actual.status, actual.headers['x-handler'], corsHeaders(actual)]).toEqual([200, 'item', { vary: 'Origin' }]);
    expect([preflight.status, corsHeaders(preflight)]).toEqual([204, { vary: 'Origin' }]);
    const allowed = await rawRequest(server, 'GET', '/items/1', { Origin: A });
    expect(corsHeaders(allowed)).toEqual({ 'access-control-allow-origin': A, vary: 'Origin' });
  });
});

@Controller('files')
class FilesController {
  @Get(':name') @EnableCors('any') @Header('x-handler', 'file') file() { return 'file'; }
}
@Module({ imports: [IdentityCorsModule.forRoot({ policies: { a: (b) => b.withOrigins(A), any: (b) => b.allowAnyOrigin() }, globalPolicy: 'a' })], controllers: [FilesController] })
class PluginAppModule {}

describe('Fastify: a plugin registered before app.init() (NestFactory.create), with a route a Nest route pattern also matches', () => {
  let app: NestFastifyApplication;
  let server: Server;
  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(PluginAppModule, new FastifyAdapter(), { logger: false });
    await app.register(async (plugin: FastifyInstance) => {
      plugin.get('/files/admin', (_request, reply) => reply.header('x-handler', 'admin').send('admin'));
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    await app.listen(0, '127.0.0.1');
    server = app.getHttpServer();
  });
  afterAll(() => app.close());

  it("gives the plugin's route the global policy, not that of the Nest route /files/:name", async () => {
    const actual = await rawRequest(server, 'GET', '/files/admin', { Origin: EVIL });
    const preflight = await rawRequest(server, 'OPTIONS', '/files/admin', { Origin: EVIL, 'Access-Control-Request-Method': 'GET' });
    expect([actual.headers['x-handler'], corsHeaders(actual)]).toEqual(['admin', { vary: 'Origin' }]);
    expect([preflight.status, corsHeaders(preflight)]).toEqual([204, { vary: 'Origin' }]);
    // The Nest route keeps its own policy.
    const file = await rawRequest(server, 'GET', '/files/report', { Origin: EVIL });
    expect([file.headers['x-handler'], corsHeaders(file)]).toEqual(['file', { 'access-control-allow-origin': '*' }]);
  });
});

describe('Fastify closing: the HTTP-server listener leaves preflights to Fastify (its return503OnClosing)', () => {
  it('answers a preflight itself while Fastify serves, and hands it to Fastify once Fastify closes', async () => {
    const app = await fastifyApp(
      { imports: [IdentityCorsModule.forRoot({ identity: { allowedOrigins: [SPA] } })], controllers: [TokenController] },
      new FastifyAdapter(),
      false,
    );
    const edge = app.get(FastifyCorsEdge, { strict: false });
    // What the server's listener gets: Node's own request and response (no socket: nothing is sent).
    const preflightTo = () => {
      const req = new IncomingMessage(new Socket());
      req.method = 'OPTIONS';
      req.url = '/connect/token';
      req.headers = { host: '127.0.0.1', origin: SPA, 'access-control-request-method': 'POST' };
      const res = new ServerResponse(req);
      const passed: string[] = [];
      edge.preflightFirst(req, res, (passedReq) => passed.push(String(passedReq.url)));
      return { res, passed };
    };
    const serving = preflightTo();
    // Answered (204, headers written), not passed on.
    expect([serving.passed, serving.res.statusCode, serving.res.headersSent]).toEqual([[], 204, true]);
    await app.close();
    const closing = preflightTo();
    expect([closing.passed, closing.res.headersSent]).toEqual([['/connect/token'], false]);
  });
});
