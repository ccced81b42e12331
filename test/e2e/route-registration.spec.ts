// Nest 12 registers routes late when the app sets routeConflictPolicy or routeResolutionStrategy, and then does not
// name their handlers "Controller.method", by which the library tells a shared method's controllers apart
// (docs/internals.md, Which controller method a route serves). Each route keeps its own CORS in every mode (RULES 12,
// 16, 23); a shared method whose controllers differ, which cannot be told apart then, stops the app.
import { Controller, Get, Module, type NestApplicationOptions } from '@nestjs/common';
import request from 'supertest';
import { type CorsPolicyBuilder, DisableCors, EnableCors, IdentityCorsModule, IdentityCorsOptionsError } from 'nest-identity-cors';
import { createNestApp, initApp, NEST_NAMES_ROUTE_HANDLERS, PLATFORM } from '../support/platform.js';

const A = 'https://a.example';
const policies = { p: (b: CorsPolicyBuilder) => b.withOrigins(A).allowCredentials(), g: (b: CorsPolicyBuilder) => b.withOrigins(A) };

const MODES: Array<[string, NestApplicationOptions]> = [
  ['routes registered as declared', {}],
  ['routeConflictPolicy (registered late)', { routeConflictPolicy: { duplicate: 'warn', shadow: 'warn' } }],
  ["routeResolutionStrategy 'specificity' (registered late)", { routeResolutionStrategy: 'specificity' }],
];

@Controller('solo') @DisableCors() class SoloController { @Get(':id') one() { return 'solo'; } @Get() list() { return 'solo list'; } }
@Controller('open') @EnableCors('p') class OpenController { @Get(':id') one() { return 'open'; } }

abstract class Base {
  @Get(':id') one() { return 'one'; }
}
@Controller('internal') @DisableCors() class InternalController extends Base {}
@Controller('public') @EnableCors('p') class PublicController extends Base {}
// The fix the startup error suggests: each controller's own method.
@Controller('internal2') @DisableCors() class OwnInternalController extends Base { @Get(':id') override one() { return super.one(); } }
@Controller('public2') @EnableCors('p') class OwnPublicController extends Base { @Get(':id') override one() { return super.one(); } }

async function start(controllers: Function[], options: NestApplicationOptions) {
  @Module({ imports: [IdentityCorsModule.forRoot({ policies, globalPolicy: 'g' })], controllers: controllers as never })
  class AppModule {}
  const app = await createNestApp(AppModule, { logger: false, abortOnError: false, ...options });
  await initApp(app);
  return app;
}

async function allowOrigins(app: Awaited<ReturnType<typeof start>>, paths: string[]) {
  const answers: Record<string, unknown> = {};
  for (const path of paths) {
    const res = await request(app.getHttpServer()).get(path).set('Origin', A);
    const preflight = await request(app.getHttpServer()).options(path).set('Origin', A).set('Access-Control-Request-Method', 'GET');
    answers[path] = [res.headers['access-control-allow-origin'], res.headers['access-control-allow-credentials'], preflight.headers['access-control-allow-origin']];
  }
  return answers;
}

describe.each(MODES)('each route keeps its controller\'s CORS: %s', (_mode, options) => {
  it('@DisableCors and @EnableCors routes, with and without path parameters, actual requests and preflights', async () => {
    const app = await start([SoloController, OpenController, OwnInternalController, OwnPublicController], options);
    try {
      expect(await allowOrigins(app, ['/solo/1', '/solo', '/open/1', '/internal2/1', '/public2/1'])).toEqual({
        '/solo/1': [undefined, undefined, undefined],
        '/solo': [undefined, undefined, undefined],
        '/open/1': [A, 'true', A],
        '/internal2/1': [undefined, undefined, undefined],
        '/public2/1': [A, 'true', A],
      });
    } finally {
      await app.close();
    }
  });
});

describe('a method two controllers share (a base class\'s), with different CORS metadata', () => {
  it(`registered as declared: ${NEST_NAMES_ROUTE_HANDLERS ? 'told apart by the handler names Nest 12 gives' : 'stops the app, as Nest 11 names no handler'}`, async () => {
    if (!NEST_NAMES_ROUTE_HANDLERS) {
      await expect(start([InternalController, PublicController], {})).rejects.toThrow(/Nest 11 never names them/);
      return;
    }
    const app = await start([InternalController, PublicController], {});
    try {
      expect(await allowOrigins(app, ['/internal/1', '/public/1'])).toEqual({ '/internal/1': [undefined, undefined, undefined], '/public/1': [A, 'true', A] });
    } finally {
      await app.close();
    }
  });

  // Fastify's router does not depend on order: Nest sorts (and so registers late) only for Express.
  it.each(MODES.slice(1).filter(([mode]) => PLATFORM === 'express' || !mode.startsWith('routeResolutionStrategy')))('stops the app when Nest does not name them (%s), naming the controllers and the fix', async (_mode, options) => {
    const error = await start([InternalController, PublicController], options).then(
      async (app) => {
        await app.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IdentityCorsOptionsError);
    expect((error as IdentityCorsOptionsError).problems).toEqual([
      "InternalController.one, PublicController.one are one method, shared by these controllers, with different CORS metadata (@DisableCors(), @EnableCors('p')), and Nest registered its routes without naming their handlers (Nest 11 never names them; Nest 12 not with routeConflictPolicy or routeResolutionStrategy): which controller a route serves cannot be told. Declare the method in each controller, with its route decorator (@Get(...) one() { return super.one(); }), or give it the same CORS metadata in all of them",
    ]);
  });
  if (PLATFORM === 'fastify') {
    it("on Fastify, routeResolutionStrategy 'specificity' registers as declared: told apart as above", async () => {
      const app = await start([InternalController, PublicController], { routeResolutionStrategy: 'specificity' });
      try {
        expect(await allowOrigins(app, ['/internal/1', '/public/1'])).toEqual({ '/internal/1': [undefined, undefined, undefined], '/public/1': [A, 'true', A] });
      } finally {
        await app.close();
      }
    });
  }
});
