import { Controller, Get, Header, Module, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { EnableCors, useIdentityCors, type CorsPolicyBuilder } from 'nest-identity-cors';
import { CaptureLogger } from './capture-logger.js';
import { createNestApp, initApp } from './platform.js';

// Routes under named policies, shared by the e2e specs on Vary, predicates and provider overrides.

export const A = 'https://a.example';
export const B = 'https://b.example';

/**
 * Node's response under a handler's @Res(): Express's response is Node's own; Fastify's reply wraps it (`raw`).
 * The routes below write on it as a handler or library that bypasses the platform would.
 */
type PlatformResponse = ServerResponse | { raw: ServerResponse };
const node = (res: PlatformResponse): ServerResponse => ('raw' in res ? res.raw : res);

/** The reason phrase of a supertest response (its Node response, which superagent's types leave out). */
export const statusMessage = (res: object) => (res as { res: { statusMessage: string } }).res.statusMessage;

@Controller('h')
export class PolicyRoutesController {
  @Get('plain') @EnableCors('listed') plain() { return 'plain'; }
  @Get('vary-header') @EnableCors('listed') @Header('Vary', 'Accept-Encoding') varyHeader() { return 'vary'; }
  @Get('late-vary') @EnableCors('listed') lateVary(@Res({ passthrough: true }) res: PlatformResponse) {
    node(res).setHeader('Vary', 'Accept-Encoding'); // replaces whatever the middleware set
    return 'late';
  }
  @Get('head-object') @EnableCors('listed') headObject(@Res() reply: PlatformResponse) {
    const res = node(reply);
    res.writeHead(200, { Vary: 'Accept-Encoding', 'Content-Type': 'text/plain' }); // Node sets these over the response's own
    res.end('object');
  }
  @Get('head-list') @EnableCors('listed') headList(@Res() reply: PlatformResponse) {
    const res = node(reply);
    res.writeHead(200, ['vary', 'Accept-Language', 'Content-Type', 'text/plain']);
    res.end('list');
  }
  @Get('head-message') @EnableCors('listed') headMessage(@Res() reply: PlatformResponse) {
    const res = node(reply);
    res.writeHead(200, 'Fine', { Vary: 'Accept-Encoding', 'Content-Type': 'text/plain' });
    res.end('message');
  }
  @Get('head-plain') @EnableCors('listed') headPlain(@Res() reply: PlatformResponse) {
    const res = node(reply);
    res.writeHead(201, 'Made');
    res.end('plain');
  }
  @Get('head-twice') @EnableCors('listed') headTwice(@Res() reply: PlatformResponse) {
    const res = node(reply);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    try {
      res.writeHead(500);
      res.end('no error');
    } catch (error) {
      res.end((error as { code?: string }).code);
    }
  }
  @Get('head-open') @EnableCors('open') headOpen(@Res() reply: PlatformResponse) {
    const res = node(reply);
    res.writeHead(200, { 'Access-Control-Allow-Origin': 'https://elsewhere.example', 'Content-Type': 'text/plain' });
    res.end('open');
  }
  @Get('slow') @EnableCors('slow') slow() { return 'slow'; }
  @Get('late') @EnableCors('late') late() { return 'late'; }
  @Get('broken') @EnableCors('broken') broken() { return 'broken'; }
}

export const policies = {
  listed: (b: CorsPolicyBuilder) => b.withOrigins(A),
  open: (b: CorsPolicyBuilder) => b.allowAnyOrigin(),
  // an async predicate that never answers: the timeout must still apply
  slow: (b: CorsPolicyBuilder) => b.setIsOriginAllowed(() => new Promise<boolean>(() => {})),
  late: (b: CorsPolicyBuilder) => b.setIsOriginAllowed(async (origin) => origin === B),
  broken: (b: CorsPolicyBuilder) =>
    b.setIsOriginAllowed(() => {
      throw new Error('predicate exploded');
    }),
};

/** The two ways the library mounts, for describe.each: by the module, or early with useIdentityCors(app). */
export const MOUNTS = [
  ['module mount', false],
  ['useIdentityCors(app)', true],
] as const;

/** A real app serving PolicyRoutesController with `imports`, its logs captured; `early`: mounted with useIdentityCors(app). */
export async function startPolicyRoutes(imports: unknown[], early: boolean) {
  const logger = new CaptureLogger();
  @Module({ imports: imports as never[], controllers: [PolicyRoutesController] })
  class AppModule {}
  const app = await createNestApp(AppModule, { logger, abortOnError: false });
  if (early) useIdentityCors(app);
  await initApp(app);
  return { app, logger };
}
