import type { HttpServer } from '@nestjs/common';
import type { ExpressCorsMiddleware } from '../platform/express/express-cors.middleware.js';
import { type FastifyCorsEdge, isFastifyAdapter } from '../platform/fastify/fastify-cors.hook.js';

/** Mounts the edge of the app's platform (Fastify's, else Express's); later calls do nothing. */
export function mountCors(httpAdapter: HttpServer, edges: { express: ExpressCorsMiddleware; fastify: FastifyCorsEdge }): void {
  if (isFastifyAdapter(httpAdapter)) edges.fastify.mountOn(httpAdapter);
  else edges.express.mountOn(httpAdapter);
}
