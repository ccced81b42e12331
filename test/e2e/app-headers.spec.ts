// Headers set on Node's response (middleware, hijacked replies, streams) and on the framework's (Express's res, Fastify's
// reply: @Header, reply.header) beside an allowed decision: the same response on both platforms (RULES 8, 19, 23).
// On Fastify the decision is written into the reply's headers, which Node sets over its response's own.
import 'reflect-metadata';
import { Readable } from 'node:stream';
import type { Server, ServerResponse } from 'node:http';
import { Controller, Get, Header, HttpCode, Module, Res, type MiddlewareConsumer, type NestModule, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type CorsPolicyBuilder, EnableCors, IdentityCorsModule } from 'nest-identity-cors';
import { createNestApp, initApp, onPlatform, PLATFORM } from '../support/platform.js';
import { corsHeaders, rawRequest } from '../support/raw-http.js';

const A = 'https://spa.example';

/** Node's response under a handler's @Res() or a middleware: Express's is Node's own; Fastify's reply wraps it (`raw`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a handler here uses Express's or Fastify's API, whichever it was given
type AnyResponse = any;
function rawOf(res: AnyResponse): ServerResponse { return res.raw ?? res; }

@EnableCors()
@Controller('r')
class R {
  @Get('plain') plain() { return 'ok'; }
  @Get('expose-mw') exposeMw() { return 'ok'; }
  @Get('vary-mw') varyMw() { return 'ok'; }
  @Get('vary-mw-header') @Header('Vary', 'Accept-Encoding') varyMwHeader() { return 'ok'; }
  @Get('expose-header') @Header('Access-Control-Expose-Headers', 'X-Mine') exposeHeader() { return 'ok'; }
  @Get('nocontent') @HttpCode(204) noContent() { return; }
  @Get('stream') stream(@Res() res: AnyResponse) {
    const raw = rawOf(res);
    if (res.raw) return res.header('content-type', 'text/plain').send(Readable.from(['a', 'b']));
    raw.setHeader('content-type', 'text/plain'); Readable.from(['a', 'b']).pipe(raw);
  }
  @Get('hijack') hijack(@Res() res: AnyResponse) {
    if (res.hijack) res.hijack();
    const raw = rawOf(res);
    raw.writeHead(200, { 'Content-Type': 'text/plain', vary: 'Accept' });
    raw.end('raw');
  }
  @Get('locals') locals() { return 'ok'; }
  @Get('locals-removed') localsRemoved(@Res({ passthrough: true }) res: AnyResponse) {
    rawOf(res).removeHeader('Access-Control-Allow-Origin');
    return 'ok';
  }
  @Get('cookie') cookie(@Res({ passthrough: true }) res: AnyResponse) {
    if (res.raw) res.header('set-cookie', ['a=1', 'b=2']); else res.setHeader('set-cookie', ['a=1', 'b=2']);
    return 'ok';
  }
}

@Module({
  imports: [
    IdentityCorsModule.forRoot({
      policies: { p: (b: CorsPolicyBuilder) => b.withOrigins(A).allowCredentials().withExposedHeaders('X-Policy') },
      defaultPolicy: 'p',
    }),
  ],
  controllers: [R],
})
class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply((_req: unknown, res: AnyResponse, next: () => void) => { rawOf(res).setHeader('Access-Control-Expose-Headers', 'X-Mine'); next(); }).forRoutes('r/expose-mw');
    consumer.apply((_req: unknown, res: AnyResponse, next: () => void) => { rawOf(res).setHeader('Vary', 'Accept'); next(); }).forRoutes('r/vary-mw', 'r/vary-mw-header');
    // Replaces Express's res.locals instead of adding to it (Fastify's middleware gets Node's response: a property of its own).
    consumer.apply((_req: unknown, res: AnyResponse, next: () => void) => { res.locals = { requestId: 'x' }; next(); }).forRoutes('r/locals', 'r/locals-removed');
  }
}

describe(`an allowed decision beside the app's own headers, on Node's response and the framework's (${PLATFORM})`, () => {
  let app: INestApplication;
  let server: Server;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = await createNestApp(moduleRef, { logger: false });
    await initApp(app);
    await app.listen(0, '127.0.0.1');
    server = app.getHttpServer();
  });
  afterAll(() => app.close());

  const get = (path: string, headers: Record<string, string> = { Origin: A }) => rawRequest(server, 'GET', path, headers);

  it('a plain response: the decision and Vary: Origin', async () => {
    expect(corsHeaders(await get('/r/plain'))).toEqual({ 'access-control-allow-origin': A, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'X-Policy', vary: 'Origin' });
  });
  it("a middleware's own Access-Control-Expose-Headers on Node's response is kept beside the policy's (as on Express)", async () => {
    const r = await get('/r/expose-mw');
    expect(r.headers['access-control-expose-headers']).toBe('X-Mine, X-Policy');
  });
  it("@Header's Access-Control-Expose-Headers kept beside the policy's", async () => {
    expect((await get('/r/expose-header')).headers['access-control-expose-headers']).toBe('X-Mine, X-Policy');
  });
  it("a middleware's Vary on Node's response: kept, with Origin appended (with and without Origin)", async () => {
    expect((await get('/r/vary-mw')).headers.vary).toBe('Accept, Origin');
    expect((await get('/r/vary-mw', {})).headers.vary).toBe('Accept, Origin');
  });
  it("@Header's Vary replaces a middleware's, as Node sets a framework's headers over its response's; Origin appended", async () => {
    const r = await get('/r/vary-mw-header');
    expect(r.headers.vary).toBe('Accept-Encoding, Origin');
  });
  it('a 204 from @HttpCode: the decision', async () => {
    const r = await get('/r/nocontent');
    expect([r.status, corsHeaders(r)]).toEqual([204, { 'access-control-allow-origin': A, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'X-Policy', vary: 'Origin' }]);
  });
  it('a streamed body: the decision', async () => {
    const r = await get('/r/stream');
    expect(corsHeaders(r)).toEqual({ 'access-control-allow-origin': A, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'X-Policy', vary: 'Origin' });
  });
  it('a hijacked reply written on Node\'s response with writeHead headers: the decision, Vary: Accept, Origin', async () => {
    const r = await get('/r/hijack');
    expect(corsHeaders(r)).toEqual({ 'access-control-allow-origin': A, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'X-Policy', vary: 'Accept, Origin' });
    expect(corsHeaders(await get('/r/hijack', {}))).toEqual({ vary: 'Accept, Origin' });
  });
  // README, Limitations: on Express the response's mark lives in res.locals, which such a middleware throws away.
  it(`a middleware that replaces res.locals: ${onPlatform({ express: 'on Express the decision written before it stays, but Vary: Origin and the putting back are lost', fastify: 'the decision and Vary: Origin, put back if the handler removes it' })}`, async () => {
    const decision = { 'access-control-allow-origin': A, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'X-Policy' };
    const vary = onPlatform<Record<string, string>>({ express: {}, fastify: { vary: 'Origin' } });
    expect(corsHeaders(await get('/r/locals'))).toEqual({ ...decision, ...vary });
    expect(corsHeaders(await get('/r/locals', { Origin: 'https://evil.example' }))).toEqual(vary);
    expect(corsHeaders(await get('/r/locals', {}))).toEqual(vary);
    expect(corsHeaders(await get('/r/locals-removed'))).toEqual(onPlatform({ express: { 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'X-Policy' }, fastify: { ...decision, ...vary } }));
  });
  it('Set-Cookie lists kept beside the decision', async () => {
    const r = await get('/r/cookie');
    expect(r.headers['set-cookie']).toBe('a=1, b=2');
    expect(r.headers['access-control-allow-origin']).toBe(A);
  });
  it("a preflight's 204: the decision, no Content-Length (RFC 9110, 8.6) and no body", async () => {
    const r = await rawRequest(server, 'OPTIONS', '/r/plain', { Origin: A, 'Access-Control-Request-Method': 'GET' });
    expect([r.status, r.headers['content-length'], r.headers['transfer-encoding'], r.body, corsHeaders(r)]).toEqual([
      204,
      undefined,
      undefined,
      '',
      { 'access-control-allow-origin': A, 'access-control-allow-credentials': 'true', vary: 'Origin' },
    ]);
  });
  it('HEAD: the decision', async () => {
    const r = await rawRequest(server, 'HEAD', '/r/plain', { Origin: A });
    expect(corsHeaders(r)).toEqual({ 'access-control-allow-origin': A, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'X-Policy', vary: 'Origin' });
  });
});
