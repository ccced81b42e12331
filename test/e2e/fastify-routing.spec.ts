/**
 * Preflights on Fastify follow the route Fastify's own router serves `M P` with (RULES 5, 18), whatever router
 * options the app set. Each route has its own policy; a preflight's policy is read from its max-age, an actual
 * response's from its exposed header, and the route that served the actual request from the header its handler
 * sets. Real Nest apps on FastifyAdapter.
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import { Controller, Delete, Get, Head, Header, Module, Post, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastify from 'fastify';
import fc from 'fast-check';
import { DisableCors, EnableCors, IdentityCorsModule, type IdentityCorsModuleOptions, useIdentityCors } from 'nest-identity-cors';
import { CaptureLogger } from '../support/capture-logger.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';

const O = 'https://app.example';

/** Policies p1…p9 and `global`: each allows O, with its own max-age (seen on preflights) and exposed header (seen on actual responses). */
const POLICY_NAMES = ['global', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9'];
function policies(): IdentityCorsModuleOptions['policies'] {
  return Object.fromEntries(
    POLICY_NAMES.map((name, i) => [name, (b: any) => b.withOrigins(O).allowAnyMethod().allowAnyHeader().setPreflightMaxAge(100 + i).withExposedHeaders(`x-policy-${name}`)]),
  );
}
/** The identity policy is told apart by its max-age (99) on preflights and its exposed WWW-Authenticate on actual responses. */
const MODULE = { policies: policies(), globalPolicy: 'global', identity: { allowedOrigins: [O], preflightCacheDuration: 99 } } satisfies IdentityCorsModuleOptions;

/** Which policy a preflight got ('none': no CORS headers). */
function preflightPolicy(res: RawResponse): string {
  if (res.headers['access-control-allow-origin'] === undefined) return 'none';
  if (res.headers['access-control-max-age'] === '99') return 'identity';
  return POLICY_NAMES[Number(res.headers['access-control-max-age']) - 100] ?? `max-age ${res.headers['access-control-max-age']}`;
}
/** Which policy an actual response got ('none': no CORS headers). */
function actualPolicy(res: RawResponse): string {
  if (res.headers['access-control-allow-origin'] === undefined) return 'none';
  if ((res.headers['access-control-expose-headers'] ?? '').includes('WWW-Authenticate')) return 'identity';
  return /x-policy-(\w+)/.exec(res.headers['access-control-expose-headers'] ?? '')?.[1] ?? 'unknown';
}

@Controller('r')
class RoutesController {
  @Get('static') @EnableCors('p1') @Header('x-handler', 'static') static() { return 'static'; }
  @Get('Mixed/Case') @EnableCors('p2') @Header('x-handler', 'mixed') mixed() { return 'mixed'; }
  @Get('items/special') @EnableCors('p6') @Header('x-handler', 'special') special() { return 'special'; }
  @Get('items/:id') @EnableCors('p3') @Header('x-handler', 'item') item() { return 'item'; }
  @Post('items/:id') @DisableCors() @Header('x-handler', 'postItem') postItem() { return 'postItem'; }
  @Delete('items/:id') @Header('x-handler', 'deleteItem') deleteItem() { return 'deleteItem'; }
  @Get('items/:id/sub/:sub') @EnableCors('p4') @Header('x-handler', 'sub') sub() { return 'sub'; }
  @Get('files/*') @EnableCors('p5') @Header('x-handler', 'file') file() { return 'file'; }
  @Head('explicit') @EnableCors('p7') @Header('x-handler', 'explicitHead') explicitHead() { return 'explicitHead'; }
  @Get('explicit') @EnableCors('p8') @Header('x-handler', 'explicitGet') explicitGet() { return 'explicitGet'; }
  @Get('undecorated') @Header('x-handler', 'undecorated') undecorated() { return 'undecorated'; }
  // One name twice: the router keeps the last value only, and Nest's adapter checks the path itself for an empty one.
  @Get('rep/:id/x/:id') @EnableCors('p9') @Header('x-handler', 'repeated') repeated() { return 'repeated'; }
}

/** An identity endpoint: its paths are compared as Fastify's router compares them (RULES 11), with the app's options. */
@Controller('connect')
class TokenController {
  @Post('token') @Header('x-handler', 'token') token() { return 'token'; }
}

/** The policy of each handler above (by its x-handler header). */
const HANDLER_POLICY: Record<string, string> = {
  token: 'identity',
  static: 'p1', mixed: 'p2', special: 'p6', item: 'p3', postItem: 'none', deleteItem: 'global', sub: 'p4', file: 'p5',
  explicitHead: 'p7', explicitGet: 'p8', undecorated: 'global', repeated: 'p9',
};

/** The policy the route that served this actual response has: its handler's, or, when none served it, Nest's 404's (the global policy). */
function servedPolicy(res: RawResponse): string {
  const handler = res.headers['x-handler'];
  if (handler !== undefined) return HANDLER_POLICY[handler] ?? `unknown handler ${handler}`;
  // Fastify's router rejects a path it cannot decode (400) or an over-long parameter (414) before any hook runs.
  return res.status === 404 ? 'global' : 'none';
}

async function fastifyApp(metadata: ModuleMetadata, adapter: FastifyAdapter, configure?: (app: NestFastifyApplication) => void): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(adapter, { logger: false });
  configure?.(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  await app.listen(0, '127.0.0.1');
  return app;
}

const preflight = (server: Server, method: string, target: string) =>
  rawRequest(server, 'OPTIONS', target, { Origin: O, 'Access-Control-Request-Method': method });
const actual = (server: Server, method: string, target: string) => rawRequest(server, method, target, { Origin: O });

// ---- generated paths ----------------------------------------------------------------------------------------

const MAX_PARAM = 12;
/** A route parameter: empty, ordinary, escaped, as long as allowed or one too long. */
const param = fc.constantFrom('', 'abc', 'x%41y', '%2F', '%zz', '%25', 'a.b', 'ü', 'a'.repeat(MAX_PARAM), 'a'.repeat(MAX_PARAM + 1), 'a'.repeat(101));
/** The segments of a path, near the routes above. */
const segments: fc.Arbitrary<string[]> = fc.oneof<fc.Arbitrary<string[]>[]>(
  fc.constant(['r', 'static']),
  fc.constant(['r', 'Mixed', 'Case']),
  fc.constant(['r', 'items', 'special']),
  param.map((p) => ['r', 'items', p]),
  fc.tuple(param, param).map(([a, b]) => ['r', 'items', a, 'sub', b]),
  fc.array(fc.constantFrom('a', 'b.txt', '', '%2F'), { maxLength: 3 }).map((rest) => ['r', 'files', ...rest]),
  fc.tuple(param, param).map(([a, b]) => ['r', 'rep', a, 'x', b]),
  fc.constant(['r', 'explicit']),
  fc.constant(['r', 'undecorated']),
  fc.constant(['r', 'nothing']),
  fc.constant(['r']),
  fc.constant(['connect', 'token']),
);
const rarely = fc.integer({ min: 0, max: 5 }).map((n) => n === 0);
const seldom = fc.integer({ min: 0, max: 19 }).map((n) => n === 0);
const pathArbitrary = fc
  .record({
    segments,
    // Each variation is rare enough that most paths keep the others' effects apart.
    caseFlips: fc.option(fc.array(seldom, { minLength: 40, maxLength: 40 }), { freq: 2 }),
    doubled: fc.array(seldom, { minLength: 8, maxLength: 8 }),
    trailing: fc.constantFrom('', '', '', '/', '//'),
    leading: fc.constantFrom('/', '/', '/', '//'),
    suffix: fc.constantFrom('', '', '', '?q=1', ';jsessionid=1', ';a?b=/c', '?a/b', '#frag'),
    escapeFirst: rarely,
    absolute: fc.constantFrom('', '', 'http://127.0.0.1', 'HTTP://localhost:1'),
  })
  .map(({ segments: parts, caseFlips, doubled, trailing, leading, suffix, escapeFirst, absolute }) => {
    let path = leading + parts.map((part, i) => (i > 0 && doubled[i] ? '/' : '') + part).join('/') + trailing + suffix;
    // Flips the case of letters outside escapes (an escape's hex digits are case-insensitive anyway).
    path = [...path].map((c, i) => (caseFlips !== null && caseFlips[i % caseFlips.length] && /[a-z]/i.test(c) && path[i - 1] !== '%' && path[i - 2] !== '%' ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c)).join('');
    // %72 is 'r': the router decodes it before matching.
    if (escapeFirst && path.startsWith('/r')) path = `/%72${path.slice(2)}`;
    // An absolute-form target, as proxies send: routed on its path.
    return absolute + path;
  });
const methodArbitrary = fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'PUT');

/** Paths at the edges of each router option and of Nest's own not-found rules, asked on every configuration. */
const EDGE_CASES: Array<[string, string]> = [
  ...['/r/static', '/R/STATIC', '/r/static/', '//r//static', '/r/static;x=1', '/r/%73tatic', 'http://127.0.0.1/r/static', '*'].map((p): [string, string] => ['GET', p]),
  ...['/r/items/', '/r/items//sub/a', '/r/items/a/sub/', '/r/rep//x/abc', '/r/rep/abc/x/', '/r/rep/a/x/b', '/r/files/', '/r/files', '/r/items/%zz', `/r/items/${'a'.repeat(MAX_PARAM + 1)}`].map((p): [string, string] => ['GET', p]),
  ['HEAD', '/r/items/a'],
  ['GET', '/old/static'],
  ['HEAD', '/old/items/a'],
  ['HEAD', '/r/explicit'],
  ['GET', '/r/explicit'],
  ...['/connect/token', '/CONNECT/TOKEN', '/connect/token/', '/connect//token', '/connect/token;x', '/connect/%74oken', 'http://127.0.0.1/connect/token'].map((p): [string, string] => ['POST', p]),
];

const ROUTER_OPTIONS = {
  caseSensitive: false,
  ignoreTrailingSlash: true,
  ignoreDuplicateSlashes: true,
  maxParamLength: MAX_PARAM,
  useSemicolonDelimiter: true,
};

// Fastify's types leave useSemicolonDelimiter out of routerOptions, where Fastify reads it.
const SEMICOLON = { useSemicolonDelimiter: true } as {};

const configurations: Array<[string, () => FastifyAdapter]> = [
  ['Fastify defaults', () => new FastifyAdapter()],
  ['every router option, top-level', () => new FastifyAdapter({ ...ROUTER_OPTIONS })],
  ['every router option, under routerOptions', () => new FastifyAdapter({ routerOptions: { ...ROUTER_OPTIONS } })],
  ['top-level and routerOptions mixed', () => new FastifyAdapter({ caseSensitive: false, maxParamLength: MAX_PARAM, routerOptions: { ignoreTrailingSlash: true, ...SEMICOLON } })],
  ['a Fastify instance created with top-level options', () => new FastifyAdapter(fastify({ caseSensitive: false, ignoreDuplicateSlashes: true, maxParamLength: MAX_PARAM }) as never)],
  ['no HEAD routes added (exposeHeadRoutes: false)', () => new FastifyAdapter({ exposeHeadRoutes: false })],
  // rewriteUrl runs before routing, and the library reads the rewritten URL.
  ['rewriteUrl', () => new FastifyAdapter({ rewriteUrl: (req: { url?: string }) => (req.url!.startsWith('/old/') ? `/r/${req.url!.slice(5)}` : req.url!) })],
  ['a Fastify instance created with routerOptions', () => new FastifyAdapter(fastify({ routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM, ...SEMICOLON } }) as never)],
];

describe.each(configurations)('Fastify routing, %s', (_name, adapter) => {
  let app: NestFastifyApplication;
  let server: Server;
  beforeAll(async () => {
    app = await fastifyApp({ imports: [IdentityCorsModule.forRoot(MODULE)], controllers: [RoutesController, TokenController] }, adapter());
    server = app.getHttpServer();
  });
  afterAll(() => app.close());

  it('a preflight for M P gets the policy of the route Fastify serves M P with, and so does the actual request (generated paths)', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(methodArbitrary, pathArbitrary, async (method, path) => {
        const served = await actual(server, method, path);
        let expected = servedPolicy(served);
        // An identity path is one by its path alone, whatever the method (another method's 404 keeps the identity policy).
        if (served.headers['x-handler'] === undefined && served.status === 404 && method !== 'POST' && (await actual(server, 'POST', path)).headers['x-handler'] === 'token') expected = 'identity';
        seen.add(expected);
        expect({ method, path, status: served.status, actual: actualPolicy(served) }).toEqual({ method, path, status: served.status, actual: expected });
        const answered = await preflight(server, method, path);
        expect({ method, path, status: served.status, preflight: preflightPolicy(answered) }).toEqual({ method, path, status: served.status, preflight: expected });
      }),
      { numRuns: 300 },
    );
    // The generated paths reach the routes, Nest's 404 and the router's own rejections, not just one of them.
    expect([...seen]).toEqual(expect.arrayContaining(['global', 'none']));
    expect(seen.size).toBeGreaterThanOrEqual(5);
  });

  it.each(EDGE_CASES)('%s %s: the preflight gets the policy of the route that serves the actual request', async (method, target) => {
    const served = await actual(server, method, target);
    const answered = await preflight(server, method, target);
    expect({ status: served.status, actual: actualPolicy(served), preflight: preflightPolicy(answered) }).toEqual({ status: served.status, actual: servedPolicy(served), preflight: servedPolicy(served) });
  });
});

/** Sends `M P` and its preflight; both must get the policy of the route that served the actual request, and that policy must be `policy`. */
async function expectServedWith(server: Server, method: string, target: string, policy: string, handler?: string): Promise<RawResponse> {
  const served = await actual(server, method, target);
  const answered = await preflight(server, method, target);
  expect({ method, target, handler: served.headers['x-handler'], served: servedPolicy(served), actual: actualPolicy(served), preflight: preflightPolicy(answered) }).toEqual({
    method,
    target,
    handler,
    served: policy,
    actual: policy,
    preflight: policy,
  });
  return served;
}

@Controller({ path: 'v', version: '1' })
class V1Controller {
  @Get('x') @EnableCors('p1') @Header('x-handler', 'v1') x() { return 'v1'; }
}
@Controller({ path: 'v', version: '2' })
class V2Controller {
  @Get('x') @EnableCors('p2') @Header('x-handler', 'v2') x() { return 'v2'; }
}
@Controller()
class PrefixController {
  @Get('health') @EnableCors('p3') @Header('x-handler', 'health') health() { return 'health'; }
  @Get('headed/:id') @EnableCors('p5') @Header('x-handler', 'headed') headed() { return 'headed'; }
  @Get('plain') @Header('x-handler', 'plain') plain() { return 'plain'; }
}
@Controller('panel')
@EnableCors('p4')
class PanelController {
  @Get() @Header('x-handler', 'panel') panel() { return 'panel'; }
}
@Module({ controllers: [PanelController] })
class AdminModule {}

Object.assign(HANDLER_POLICY, { v1: 'p1', v2: 'p2', health: 'p3', headed: 'p5', plain: 'global', panel: 'p4', outside: 'global', plugin: 'global', hookedCors: 'p1', hookedOff: 'none' });

describe('Fastify routing: global prefix and exclusions, URI versioning, RouterModule, HEAD routes, routes outside Nest', () => {
  let app: NestFastifyApplication;
  let server: Server;
  beforeAll(async () => {
    const { RouterModule } = await import('@nestjs/core');
    const { VersioningType } = await import('@nestjs/common');
    const moduleRef = await Test.createTestingModule({
      imports: [IdentityCorsModule.forRoot(MODULE), AdminModule, RouterModule.register([{ path: 'admin', module: AdminModule }])],
      controllers: [V1Controller, V2Controller, PrefixController],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    app.setGlobalPrefix('api', { exclude: ['health'] });
    app.enableVersioning({ type: VersioningType.URI });
    const instance = app.getHttpAdapter().getInstance();
    // A route Fastify serves that Nest does not know: the global policy, as a route without CORS metadata.
    instance.get('/outside/:id', (_request, reply) => reply.header('x-handler', 'outside').send('outside'));
    await app.init();
    // A plugin registered once Nest is initialized: Fastify loads it, and adds its routes, at ready time.
    // Its route at the prefix itself is served with and without the trailing slash (Fastify's prefixTrailingSlash).
    instance.register(
      async (plugin) => {
        plugin.get('/', (_request, reply) => reply.header('x-handler', 'plugin').send('plugin'));
        plugin.get('/more', (_request, reply) => reply.header('x-handler', 'plugin').send('plugin'));
      },
      { prefix: '/plug' },
    );
    await instance.ready();
    await app.listen(0, '127.0.0.1');
    server = app.getHttpServer();
  });
  afterAll(() => app.close());

  it('follows the global prefix and its exclusions', async () => {
    await expectServedWith(server, 'GET', '/api/plain', 'global', 'plain');
    await expectServedWith(server, 'GET', '/health', 'p3', 'health');
    // Excluded: not served under the prefix, so Nest's 404 with the global policy.
    await expectServedWith(server, 'GET', '/api/health', 'global');
    await expectServedWith(server, 'GET', '/plain', 'global');
  });

  it('follows URI versions, each with its own policy', async () => {
    await expectServedWith(server, 'GET', '/api/v1/v/x', 'p1', 'v1');
    await expectServedWith(server, 'GET', '/api/v2/v/x', 'p2', 'v2');
    await expectServedWith(server, 'GET', '/api/v3/v/x', 'global');
  });

  it("follows RouterModule's paths", async () => {
    await expectServedWith(server, 'GET', '/api/admin/panel', 'p4', 'panel');
    await expectServedWith(server, 'GET', '/api/panel', 'global');
  });

  it('gives the HEAD route Fastify adds for a GET route that GET route’s policy (a preflight asking for HEAD)', async () => {
    const served = await expectServedWith(server, 'HEAD', '/api/headed/1', 'p5', 'headed');
    expect(served.status).toBe(200);
    // An empty parameter: Nest's adapter passes it to the not-found handler, on HEAD as on GET.
    await expectServedWith(server, 'HEAD', '/api/headed/', 'global');
  });

  it('gives a route added on the Fastify instance outside Nest the global policy', async () => {
    await expectServedWith(server, 'GET', '/outside/1', 'global', 'outside');
    await expectServedWith(server, 'HEAD', '/outside/1', 'global', 'outside');
    await expectServedWith(server, 'POST', '/outside/1', 'global');
  });

  it('knows the routes of a plugin registered after init, at its prefix with and without the trailing slash', async () => {
    await expectServedWith(server, 'GET', '/plug', 'global', 'plugin');
    await expectServedWith(server, 'GET', '/plug/', 'global', 'plugin');
    await expectServedWith(server, 'GET', '/plug/more', 'global', 'plugin');
  });

  it("answers the asterisk-form target (OPTIONS *) as a path no route serves, as Nest's adapter does", async () => {
    const served = await actual(server, 'GET', '*');
    const answered = await preflight(server, 'GET', '*');
    expect({ status: served.status, actual: actualPolicy(served), preflight: preflightPolicy(answered) }).toEqual({ status: 404, actual: 'global', preflight: 'global' });
  });
});

@Controller({ path: 'hv', version: '1' })
class HeaderV1Controller {
  @Get() @EnableCors('p1') @Header('x-handler', 'hv1') get() { return 'hv1'; }
}
@Controller({ path: 'hv', version: '2' })
class HeaderV2Controller {
  @Get() @EnableCors('p2') @Header('x-handler', 'hv2') get() { return 'hv2'; }
}

describe('Fastify routing: header versioning, two versions of one path with different policies', () => {
  let app: NestFastifyApplication;
  let server: Server;
  let logger: CaptureLogger;
  beforeAll(async () => {
    const { VersioningType } = await import('@nestjs/common');
    logger = new CaptureLogger();
    const moduleRef = await Test.createTestingModule({ imports: [IdentityCorsModule.forRoot(MODULE)], controllers: [HeaderV1Controller, HeaderV2Controller] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger });
    app.enableVersioning({ type: VersioningType.HEADER, header: 'x-api-version' });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    await app.listen(0, '127.0.0.1');
    server = app.getHttpServer();
  });
  afterAll(() => app.close());

  it('warns at startup that the routes differ only by a constraint a preflight does not carry', () => {
    const warnings = logger.at('warn').filter((line) => line.includes('told apart by constraints'));
    // Once for the pair of routes, naming the HEAD routes Fastify added beside their GET routes.
    expect(warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/^GET, HEAD \/hv is served by HeaderV1Controller\.get and HeaderV2Controller\.get, told apart by constraints .*: preflights, and actual requests too .*, get HeaderV1Controller\.get's/)]),
    );
    expect(warnings).toHaveLength(1);
  });

  it("answers the preflight with the first version's policy: a preflight does not carry the version header", async () => {
    const answered = await rawRequest(server, 'OPTIONS', '/hv', { Origin: O, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-api-version' });
    expect(preflightPolicy(answered)).toBe('p1');
  });

  it("gives every actual request to that path the first version's policy too, whichever version serves it (decided on the path alone)", async () => {
    const v1 = await rawRequest(server, 'GET', '/hv', { Origin: O, 'x-api-version': '1' });
    const v2 = await rawRequest(server, 'GET', '/hv', { Origin: O, 'x-api-version': '2' });
    const none = await rawRequest(server, 'GET', '/hv', { Origin: O });
    expect([v1, v2, none].map((res) => [res.status, res.headers['x-handler'], actualPolicy(res)])).toEqual([
      [200, 'hv1', 'p1'],
      [200, 'hv2', 'p1'],
      [404, undefined, 'p1'],
    ]);
  });
});

@Controller('h')
class HookedController {
  @Get('cors') @EnableCors('p1') @Header('x-handler', 'hookedCors') cors() { return 'cors'; }
  @Get('off') @DisableCors() @Header('x-handler', 'hookedOff') off() { return 'off'; }
}

describe('Fastify hooks beside the library', () => {
  let app: NestFastifyApplication;
  let server: Server;
  const appHook: string[] = [];
  const slotHook: Array<{ request: string; corsAlreadyWritten: boolean }> = [];
  const responses: string[] = [];
  const describeRequest = (request: { method: string; url: string; headers: Record<string, unknown> }) =>
    `${request.method} ${request.url}${request.headers['access-control-request-method'] ? ' (preflight)' : ''}`;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [IdentityCorsModule.forRoot(MODULE)], controllers: [HookedController] }).compile();
    const adapter = new FastifyAdapter();
    // A hook set in the adapter's slot before the module mounts: the module runs it after its own.
    adapter.setOnRequestHook((request, reply, done) => {
      slotHook.push({ request: describeRequest(request), corsAlreadyWritten: reply.getHeader('access-control-allow-origin') !== undefined });
      done();
    });
    app = moduleRef.createNestApplication<NestFastifyApplication>(adapter, { logger: false });
    const instance = app.getHttpAdapter().getInstance();
    instance.addHook('onRequest', (request, _reply, done) => {
      appHook.push(describeRequest(request));
      done();
    });
    instance.addHook('onResponse', (request, reply, done) => {
      responses.push(`${describeRequest(request)} ${reply.statusCode}`);
      done();
    });
    await app.init();
    await instance.ready();
    await app.listen(0, '127.0.0.1');
    server = app.getHttpServer();
  });
  afterAll(() => app.close());
  beforeEach(() => {
    appHook.length = 0;
    slotHook.length = 0;
    responses.length = 0;
  });

  it("an app's onRequest hook and a hook set with setOnRequestHook see every actual request, after the library wrote its CORS headers", async () => {
    const res = await actual(server, 'GET', '/h/cors');
    expect(actualPolicy(res)).toBe('p1');
    expect(appHook).toEqual(['GET /h/cors']);
    expect(slotHook).toEqual([{ request: 'GET /h/cors', corsAlreadyWritten: true }]);
  });

  it('no hook sees a preflight the library answers, onResponse hooks neither: it is answered on the HTTP server, before Fastify', async () => {
    const res = await preflight(server, 'GET', '/h/cors');
    expect([res.status, preflightPolicy(res)]).toEqual([204, 'p1']);
    expect(appHook).toEqual([]);
    expect(slotHook).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(responses).toEqual([]);
  });

  it('both see a preflight the library leaves alone (a route without CORS), and an OPTIONS request that is not a preflight', async () => {
    const res = await preflight(server, 'GET', '/h/off');
    expect(preflightPolicy(res)).toBe('none');
    await rawRequest(server, 'OPTIONS', '/h/cors', { Origin: O });
    expect(appHook).toEqual(['OPTIONS /h/off (preflight)', 'OPTIONS /h/cors']);
    expect(slotHook.map((seen) => seen.request)).toEqual(['OPTIONS /h/off (preflight)', 'OPTIONS /h/cors']);
  });
});

describe('Fastify: mounting the library', () => {
  const build = async (options: { imports?: ModuleMetadata['imports']; configure?: (app: NestFastifyApplication) => void; logger?: CaptureLogger }) => {
    const moduleRef = await Test.createTestingModule({ imports: options.imports ?? [IdentityCorsModule.forRoot(MODULE)], controllers: [HookedController] }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: options.logger ?? false });
    options.configure?.(app);
    return app;
  };

  it('useIdentityCors(app) mounts the library before init, once: routes and preflights as when the module mounts it', async () => {
    const app = await build({ configure: (nest) => useIdentityCors(nest) });
    try {
      await app.init();
      await app.getHttpAdapter().getInstance().ready();
      await app.listen(0, '127.0.0.1');
      const server = app.getHttpServer();
      await expectServedWith(server, 'GET', '/h/cors', 'p1', 'hookedCors');
      await expectServedWith(server, 'GET', '/h/off', 'none', 'hookedOff');
      await expectServedWith(server, 'GET', '/h/nothing', 'global');
      // Mounted once: one Vary: Origin, not one per mount.
      expect((await actual(server, 'GET', '/h/cors')).headers.vary).toBe('Origin');
    } finally {
      await app.close();
    }
  });

  it('warns at startup when app.enableCors() (@fastify/cors) is active beside the module', async () => {
    const logger = new CaptureLogger();
    const app = await build({ logger, configure: (nest) => nest.enableCors({ origin: 'https://other.example' }) });
    try {
      await app.init();
      await app.getHttpAdapter().getInstance().ready();
      expect(logger.at('warn')).toEqual(expect.arrayContaining([expect.stringContaining('app.enableCors() (or NestFactory.create(..., { cors }), or @fastify/cors) is active beside IdentityCorsModule')]));
    } finally {
      await app.close();
    }
  });

  it('with handleBeforeExpress: false, answers preflights in the request hook (onResponse hooks see them), by default before Fastify; neither warns', async () => {
    // One app at a time: an app's logger replaces Nest's static one for every app.
    for (const [handleBeforeExpress, seenByFastify] of [[false, true], [undefined, false]] as const) {
      const logger = new CaptureLogger();
      const app = await build({ logger, imports: [IdentityCorsModule.forRoot({ ...MODULE, handleBeforeExpress })] });
      const responses: string[] = [];
      try {
        app.getHttpAdapter().getInstance().addHook('onResponse', (request, reply, done) => {
          responses.push(`${request.method} ${request.url} ${reply.statusCode}`);
          done();
        });
        await app.init();
        await app.listen(0, '127.0.0.1');
        const server = app.getHttpServer();
        const res = await preflight(server, 'GET', '/h/cors');
        const actualRes = await actual(server, 'GET', '/h/cors');
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect({ handleBeforeExpress, preflight: [res.status, preflightPolicy(res)], actual: actualPolicy(actualRes), responses, warnings: logger.at('warn') }).toEqual({
          handleBeforeExpress,
          preflight: [204, 'p1'],
          actual: 'p1',
          responses: seenByFastify ? ['OPTIONS /h/cors 204', 'GET /h/cors 200'] : ['GET /h/cors 200'],
          warnings: [],
        });
      } finally {
        await app.close();
      }
    }
  });

  it('refuses a second IdentityCorsModule in the app at startup', async () => {
    @Module({ imports: [IdentityCorsModule.forRoot(MODULE)] })
    class SecondModule {}
    const app = await build({ imports: [IdentityCorsModule.forRoot(MODULE), SecondModule] });
    try {
      await expect(app.init()).rejects.toThrow('IdentityCorsModule is imported more than once in this app');
    } finally {
      await app.close().catch(() => undefined);
    }
  });

  it("logs an error at ready time when the adapter's request hook is replaced after the module took it", async () => {
    const logger = new CaptureLogger();
    const app = await build({ logger });
    try {
      await app.init();
      (app.getHttpAdapter() as unknown as FastifyAdapter).setOnRequestHook((_request, _reply, done) => done());
      await app.getHttpAdapter().getInstance().ready();
      expect(logger.at('error')).toEqual(expect.arrayContaining([expect.stringContaining("The FastifyAdapter's request hook (setOnRequestHook) was replaced after IdentityCorsModule took it")]));
    } finally {
      await app.close();
    }
  });
});
