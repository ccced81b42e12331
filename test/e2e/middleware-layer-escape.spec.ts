// Express only (jest.config.js leaves it out of the project "fastify"): Express's middleware layer fails to decode
// the escape and answers 400 from inside its router. Fastify answers such a URL with 400 from its router, before any
// hook (no CORS): request-target.spec.ts states that on both platforms.
import { Controller, Get, Module, type INestApplication, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import request from 'supertest';
import { DisableCors, IdentityCorsModule } from 'nest-identity-cors';
import { createApp } from '../support/app.js';

@Controller('mw')
class DisabledController {
  @Get(':id/item') @DisableCors() item() { return 'item'; }
}
function passThrough(_req: unknown, _res: unknown, next: () => void) {
  next();
}
/** A Nest middleware on a param path, registered before the routes: a bad escape there ends routing (400) before any route. */
@Module({ controllers: [DisabledController] })
class MiddlewareModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(passThrough).forRoutes('mw/:id/*rest');
  }
}

describe('a malformed escape that a middleware layer fails to decode (RULES 14)', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createApp({ imports: [IdentityCorsModule.forRoot({ policies: { g: (b) => b.allowAnyOrigin() }, globalPolicy: 'g' }), MiddlewareModule] });
  });
  afterAll(() => app.close());

  it('gets the unrouted (global) policy of the 400 it reaches, not the policy of a route after that layer', async () => {
    const routed = await request(app.getHttpServer()).get('/mw/1/item').set('Origin', 'https://a.example');
    expect([routed.status, routed.headers['access-control-allow-origin']]).toEqual([200, undefined]);
    const failed = await request(app.getHttpServer()).get('/mw/%zz/item').set('Origin', 'https://a.example');
    const unrouted = await request(app.getHttpServer()).get('/nowhere').set('Origin', 'https://a.example');
    expect(failed.status).toBe(400);
    expect(failed.headers['access-control-allow-origin']).toBe('*');
    expect(failed.headers['access-control-allow-origin']).toBe(unrouted.headers['access-control-allow-origin']);
  });
});
