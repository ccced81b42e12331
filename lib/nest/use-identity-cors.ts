import type { INestApplication } from '@nestjs/common';
import { ExpressCorsMiddleware } from '../platform/express/express-cors.middleware.js';
import { FastifyCorsEdge } from '../platform/fastify/fastify-cors.hook.js';
import { mountCors } from './mount-cors.js';

/**
 * Mounts CORS right away, before Nest registers its body parsers at init, so that responses those
 * parsers send (400 for malformed JSON, 413 for a body too large) carry CORS headers too. Call it in
 * main.ts between NestFactory.create() and listen(); the module then does not mount it a second time.
 */
export function useIdentityCors(app: INestApplication): void {
  mountCors(app.getHttpAdapter(), { express: app.get(ExpressCorsMiddleware, { strict: false }), fastify: app.get(FastifyCorsEdge, { strict: false }) });
}
