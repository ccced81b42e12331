/**
 * Requests and app set-ups that only Fastify has (its own options and hooks), against the guarantees of
 * docs/rules.md. Real Nest apps on FastifyAdapter; run once, in the project "fastify" (jest.config.js).
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import { Controller, Post, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { IdentityCorsModule, type ICorsPolicyService } from 'nest-identity-cors';
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

  it('leaves the response Fastify sent alone once the decision comes, and logs no failure of its own', async () => {
    const preflight = await rawRequest(server, 'OPTIONS', '/connect/token', { Origin: SPA, 'Access-Control-Request-Method': 'POST' });
    const actual = await rawRequest(server, 'POST', '/connect/token', { Origin: SPA });
    // Fastify's 503, sent before the library decided: no CORS headers (a browser app cannot read it).
    expect([preflight.status, corsHeaders(preflight), actual.status, corsHeaders(actual)]).toEqual([503, {}, 503, {}]);
    // The decisions come after the responses: the library has nothing left to write.
    await new Promise((resolve) => setTimeout(resolve, 4 * HANDLER_TIMEOUT));
    expect(logger.at('error').filter((line) => line.includes('CORS handling failed'))).toEqual([]);
  });
});
