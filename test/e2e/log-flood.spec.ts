import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, Post, type INestApplication } from '@nestjs/common';
import { EnableCors, IdentityCorsModule, type ICorsPolicyService } from 'nest-identity-cors';
import { CorsHandler } from '../../lib/handler/cors-handler.js';
import { LogLimiter } from '../../lib/handler/log-limiter.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { createNestApp } from '../support/platform.js';

const SPA = 'https://spa.example';
const PARTNER = 'https://partner.example';
const FLOOD = 2000;

@Controller()
class FloodController {
  @Post('connect/token') token() { return 'token'; }
  @Get('api/partner') @EnableCors('partner') partner() { return 'partner'; }
}

class SwitchableService implements ICorsPolicyService {
  failing = false;
  isOriginAllowed(origin: string): Promise<boolean> {
    return this.failing ? Promise.reject(new Error('database is down')) : Promise.resolve(origin === SPA);
  }
}

describe('logs stay bounded under a flood of denials and failures (RULES 21)', () => {
  const service = new SwitchableService();
  let app: INestApplication;
  let logger: CaptureLogger;
  let logs: LogLimiter;
  let base: string;
  let clock = 0;

  beforeAll(async () => {
    logger = new CaptureLogger();
    @Module({
      imports: [IdentityCorsModule.forRoot({ policies: { partner: (b) => b.withOrigins(PARTNER) }, corsPolicyService: { useValue: service } })],
      controllers: [FloodController],
    })
    class AppModule {}
    app = await createNestApp(AppModule, { logger, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
    logs = app.get(CorsHandler).logs;
    logs.now = () => clock;
  });
  afterAll(() => app.close());
  beforeEach(() => {
    logger.lines.length = 0;
  });

  /** Sends `count` requests, 25 at a time; `origin(i)` gives each its Origin. */
  async function flood(count: number, method: string, path: string, origin: (i: number) => string): Promise<string[]> {
    const allowed: string[] = [];
    for (let i = 0; i < count; i += 25) {
      const batch = Array.from({ length: Math.min(25, count - i) }, (_, j) =>
        fetch(`${base}${path}`, { method, headers: { Origin: origin(i + j) } }).then(async (res) => {
          await res.arrayBuffer();
          allowed.push(res.headers.get('access-control-allow-origin') ?? '');
        }),
      );
      await Promise.all(batch);
    }
    return allowed;
  }
  const debug = () => logger.at('debug').filter((line) => line.startsWith('CORS request denied'));

  it('writes exactly one debug line per denied request before limiting (not one per layer)', async () => {
    // Each request in an interval of its own: nothing is held back.
    logs.now = () => (clock += logs.intervalMs);
    try {
      await flood(10, 'POST', '/connect/token', (i) => `https://evil${i}.example`);
      await flood(10, 'GET', '/api/partner', (i) => `https://evil${i}.example`);
      await flood(5, 'GET', '/api/partner', (i) => `https://bad${i}.example/`);
    } finally {
      logs.now = () => clock;
    }
    expect(debug()).toHaveLength(25);
    expect(debug().filter((line) => line.includes('(service-denied, '))).toHaveLength(10);
    expect(debug().filter((line) => line.includes('(origin-not-allowed, '))).toHaveLength(10);
    expect(debug().filter((line) => line.includes('(origin-invalid, '))).toHaveLength(5);
  });

  it('logs one line per cause per interval for denials from many distinct origins, then the count left out', async () => {
    clock += 10 * logs.intervalMs;
    const allowed = await flood(FLOOD, 'POST', '/connect/token', (i) => `https://evil${i}.example`);
    await flood(FLOOD, 'GET', '/api/partner', (i) => `https://evil${i}.example`);
    await flood(FLOOD, 'GET', '/api/partner', (i) => `https://bad${i}.example/`);
    expect(allowed.every((value) => value === '')).toBe(true);
    expect(debug()).toEqual([
      `CORS request denied (service-denied, policy 'IdentityServer'): ICorsPolicyService did not allow the origin; e.g. Origin "https://evil0.example" to "/connect/token"`,
      `CORS request denied (origin-not-allowed, policy 'partner'): the policy does not allow the origin; e.g. Origin "https://evil0.example" to "/api/partner"`,
      `CORS request denied (origin-invalid, policy 'partner'): the Origin header is not a serialized origin; e.g. Origin "https://bad0.example/" to "/api/partner"`,
    ]);

    clock += logs.intervalMs;
    await flood(1, 'POST', '/connect/token', () => 'https://late.example');
    expect(debug().at(-1)).toBe(
      `CORS request denied (service-denied, policy 'IdentityServer'): ICorsPolicyService did not allow the origin; e.g. Origin "https://late.example" to "/connect/token" (${FLOOD - 1} more like it in the last 60 s were not logged)`,
    );
    expect(logger.lines.filter((line) => line.level !== 'debug')).toEqual([]);
  });

  it('logs an outage once as it begins, its count once per interval, and its recovery once', async () => {
    clock += 10 * logs.intervalMs;
    service.failing = true;
    const denied = await flood(FLOOD, 'POST', '/connect/token', (i) => (i % 2 === 0 ? SPA : `https://o${i}.example`));
    expect(denied.every((value) => value === '')).toBe(true);
    let errors = logger.at('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^CORS request from origin https:\/\/spa\.example to \/connect\/token denied because policy 'IdentityServer' failed: database is down\. CORS requests it decides are denied until it answers again/);

    clock += logs.intervalMs;
    await flood(1, 'POST', '/connect/token', () => SPA);
    errors = logger.at('error');
    expect(errors).toHaveLength(2);
    expect(errors[1]).toBe(`policy 'IdentityServer' is still failing: ${FLOOD} more CORS requests denied in the last 60 s (latest error: database is down)`);

    service.failing = false;
    const allowed = await flood(50, 'POST', '/connect/token', () => SPA);
    expect(allowed.every((value) => value === SPA)).toBe(true);
    expect(logger.at('log')).toEqual([`policy 'IdentityServer' answers again; ${FLOOD + 1} CORS requests were denied while it failed`]);
    expect(logger.at('error')).toHaveLength(2);
    expect(logs.failing).toBe(0);
  });
});

describe('LogLimiter', () => {
  it('bounds the causes it remembers: beyond the bound, one shared line per interval', () => {
    const logger = new CaptureLogger();
    const limiter = new LogLimiter(logger);
    limiter.now = () => 0;
    for (let i = 0; i < 5000; i++) limiter.limited('debug', `cause ${i}`, () => `line ${i}`);
    expect(logger.lines.length).toBeLessThanOrEqual(1001);
    expect(logger.at('debug').at(-1)).toBe('line 1000');
  });

  it('logs nothing on success while nothing is failing, and ends only the outage of the source that answers', () => {
    const logger = new CaptureLogger();
    const limiter = new LogLimiter(logger, 1000);
    limiter.now = () => 0;
    limiter.succeeded('a', 'policy a');
    expect(logger.lines).toEqual([]);
    limiter.failed('a', 'policy a', 'down', 'CORS request from origin x to /p');
    limiter.failed('b', 'policy b', 'down', 'CORS request from origin x to /p');
    expect(limiter.failing).toBe(2);
    limiter.succeeded('a', 'policy a');
    expect(limiter.failing).toBe(1);
    expect(logger.at('log')).toEqual(['policy a answers again; 1 CORS requests were denied while it failed']);
    expect(logger.at('error')).toHaveLength(2);
  });
});
