import type { INestApplication } from '@nestjs/common';
import { CorsMiddleware } from './cors.middleware.js';

export interface UseIdentityCorsOptions {
  /**
   * Answer CORS preflights on the HTTP server itself, before Express handles the request: about 3×
   * the preflight throughput (see README, Performance). Preflights answered this way do not pass
   * through middleware mounted before this call, nor get Express's own headers (`X-Powered-By`).
   * Every other request, and every preflight of a route without CORS, goes to Express unchanged.
   * Default false.
   */
  preflightBeforeExpress?: boolean;
}

/**
 * Mounts the CORS middleware right away, before Nest registers its body parsers at init, so that
 * responses those parsers send (400 for malformed JSON, 413 for a body too large) carry CORS
 * headers too. Call it in main.ts between NestFactory.create() and listen(); the module then does
 * not mount it a second time.
 */
export function useIdentityCors(app: INestApplication, options: UseIdentityCorsOptions = {}): void {
  const middleware = app.get(CorsMiddleware, { strict: false });
  middleware.mountOn(app.getHttpAdapter());
  if (options.preflightBeforeExpress === true) middleware.answerPreflightsOn(app.getHttpServer());
}
