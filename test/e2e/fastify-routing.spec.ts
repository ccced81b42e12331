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
import { DisableCors, EnableCors, IdentityCorsModule, type IdentityCorsModuleOptions } from 'nest-identity-cors';
import { rawRequest, type RawResponse } from '../support/raw-http.js';

const O = 'https://app.example';

/** Policies p1…p9 and `global`: each allows O, with its own max-age (seen on preflights) and exposed header (seen on actual responses). */
const POLICY_NAMES = ['global', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9'];
function policies(): IdentityCorsModuleOptions['policies'] {
  return Object.fromEntries(
    POLICY_NAMES.map((name, i) => [name, (b: any) => b.withOrigins(O).allowAnyMethod().allowAnyHeader().setPreflightMaxAge(100 + i).withExposedHeaders(`x-policy-${name}`)]),
  );
}
const MODULE = { policies: policies(), globalPolicy: 'global' } satisfies IdentityCorsModuleOptions;

/** Which policy a preflight got ('none': no CORS headers). */
function preflightPolicy(res: RawResponse): string {
  if (res.headers['access-control-allow-origin'] === undefined) return 'none';
  return POLICY_NAMES[Number(res.headers['access-control-max-age']) - 100] ?? `max-age ${res.headers['access-control-max-age']}`;
}
/** Which policy an actual response got ('none': no CORS headers). */
function actualPolicy(res: RawResponse): string {
  if (res.headers['access-control-allow-origin'] === undefined) return 'none';
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
}

/** The policy of each handler above (by its x-handler header). */
const HANDLER_POLICY: Record<string, string> = {
  static: 'p1', mixed: 'p2', special: 'p6', item: 'p3', postItem: 'none', deleteItem: 'global', sub: 'p4', file: 'p5',
  explicitHead: 'p7', explicitGet: 'p8', undecorated: 'global',
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
const segments = fc.oneof(
  fc.constant(['r', 'static']),
  fc.constant(['r', 'Mixed', 'Case']),
  fc.constant(['r', 'items', 'special']),
  param.map((p) => ['r', 'items', p]),
  fc.tuple(param, param).map(([a, b]) => ['r', 'items', a, 'sub', b]),
  fc.array(fc.constantFrom('a', 'b.txt', '', '%2F'), { maxLength: 3 }).map((rest) => ['r', 'files', ...rest]),
  fc.constant(['r', 'explicit']),
  fc.constant(['r', 'undecorated']),
  fc.constant(['r', 'nothing']),
  fc.constant(['r']),
);
const rarely = fc.integer({ min: 0, max: 5 }).map((n) => n === 0);
const pathArbitrary = fc
  .record({
    segments,
    // Each variation is rare enough that most paths keep the others' effects apart.
    caseFlips: fc.option(fc.array(rarely, { minLength: 40, maxLength: 40 }), { freq: 2 }),
    doubled: fc.array(rarely, { minLength: 8, maxLength: 8 }),
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

const ROUTER_OPTIONS = {
  caseSensitive: false,
  ignoreTrailingSlash: true,
  ignoreDuplicateSlashes: true,
  maxParamLength: MAX_PARAM,
  useSemicolonDelimiter: true,
};

const configurations: Array<[string, () => FastifyAdapter]> = [
  ['Fastify defaults', () => new FastifyAdapter()],
  ['every router option, top-level', () => new FastifyAdapter({ ...ROUTER_OPTIONS })],
  ['every router option, under routerOptions', () => new FastifyAdapter({ routerOptions: { ...ROUTER_OPTIONS } })],
  ['top-level and routerOptions mixed', () => new FastifyAdapter({ caseSensitive: false, maxParamLength: MAX_PARAM, routerOptions: { ignoreTrailingSlash: true, useSemicolonDelimiter: true } })],
  ['a Fastify instance created with top-level options', () => new FastifyAdapter(fastify({ caseSensitive: false, ignoreDuplicateSlashes: true, maxParamLength: MAX_PARAM }) as never)],
  ['a Fastify instance created with routerOptions', () => new FastifyAdapter(fastify({ routerOptions: { ignoreTrailingSlash: true, useSemicolonDelimiter: true, maxParamLength: MAX_PARAM } }) as never)],
];

describe.each(configurations)('Fastify routing, %s', (_name, adapter) => {
  let app: NestFastifyApplication;
  let server: Server;
  beforeAll(async () => {
    app = await fastifyApp({ imports: [IdentityCorsModule.forRoot(MODULE)], controllers: [RoutesController] }, adapter());
    server = app.getHttpServer();
  });
  afterAll(() => app.close());

  it('a preflight for M P gets the policy of the route Fastify serves M P with, and so does the actual request (generated paths)', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(methodArbitrary, pathArbitrary, async (method, path) => {
        const served = await actual(server, method, path);
        const expected = servedPolicy(served);
        seen.add(expected);
        expect({ method, path, status: served.status, actual: actualPolicy(served) }).toEqual({ method, path, status: served.status, actual: expected });
        const answered = await preflight(server, method, path);
        expect({ method, path, status: served.status, preflight: preflightPolicy(answered) }).toEqual({ method, path, status: served.status, preflight: expected });
      }),
      { numRuns: 300 },
    );
    // The generated paths reach the routes, Nest's 404 and the router's own rejections, not just one of them.
    expect([...seen]).toEqual(expect.arrayContaining(['global', 'none']));
    expect(seen.size).toBeGreaterThanOrEqual(6);
  });
});
