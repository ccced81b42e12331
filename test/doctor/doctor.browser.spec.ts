// The doctor's verdict must be Chromium's: every row of cors-cases.ts goes through fetch() in headless Chromium
// and through the doctor, and both must agree on allowed/blocked, on the phase (preflight or response) and URL
// the browser names, and on the kind of failure its console message gives.
import { Controller, Get, Post, type INestApplication } from '@nestjs/common';
import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import { IdentityCorsModule } from 'nest-identity-cors';
import { runDoctor, type DoctorReport } from '../../lib/doctor/doctor.js';
import type { CorsBlockReason } from '../../lib/doctor/reasons.js';
import { launchChromium } from '../browser/chromium.js';
import { createApp } from '../support/app.js';
import { CORS_CASES, type CorsCase } from './cors-cases.js';
import { listen, startCaseServer, type Listening } from './cors-case-server.js';

const BROWSER_TIMEOUT = 90_000; // a cold Chromium on a busy 2-core machine; no timing is asserted

@Controller()
class IdentityController {
  @Get('.well-known/openid-configuration') discovery() { return { issuer: 'http://127.0.0.1' }; }
  @Post('connect/token') token() { return { access_token: 't' }; }
  @Get('connect/userinfo') userinfo() { return { sub: 'alice' }; }
}

/** What both sides are compared on; `kind` is the console's vocabulary (it does not tell Authorization apart). */
interface Outcome {
  allowed: boolean;
  phase?: 'preflight' | 'response';
  url?: string;
  kind?: string;
}

/** Reads Chromium's console message ("Access to fetch at 'U' from origin 'O' has been blocked by CORS policy: ..."). */
function outcomeFromConsole(message: string): Outcome {
  const url = /Access to fetch at '([^']+)'/.exec(message)?.[1];
  const why = message.slice(message.indexOf('CORS policy:'));
  const kinds: Array<[RegExp, string]> = [
    [/Redirect is not allowed for a preflight request/, 'preflight-redirect'],
    [/does not have HTTP ok status/, 'preflight-status'],
    [/No 'Access-Control-Allow-Origin' header is present/, 'allow-origin-missing'],
    [/contains multiple values/, 'allow-origin-multiple'],
    [/must not be the wildcard '\*'/, 'allow-origin-wildcard-with-credentials'],
    [/is not equal to the supplied origin/, 'allow-origin-mismatch'],
    [/Access-Control-Allow-Credentials' header in the response is/, 'allow-credentials-missing'],
    [/Method \S+ is not allowed by Access-Control-Allow-Methods/, 'method-not-allowed'],
    [/Request header field \S+ is not allowed by Access-Control-Allow-Headers/, 'header-not-allowed'],
    [/Cannot parse Access-Control-Allow-(Methods|Headers)/, 'allow-list-invalid'],
  ];
  return {
    allowed: false,
    phase: /preflight/.test(why) ? 'preflight' : 'response',
    ...(url ? { url } : {}),
    kind: kinds.find(([pattern]) => pattern.test(why))?.[1] ?? `unrecognized: ${why}`,
  };
}

const CONSOLE_KIND: Partial<Record<CorsBlockReason, string>> = { 'authorization-not-covered-by-wildcard': 'header-not-allowed' };

function outcomeFromDoctor(report: DoctorReport): Outcome {
  if (report.verdict === 'allowed') return { allowed: true };
  const blocked = report.blocked!;
  return {
    allowed: false,
    phase: blocked.at === 'preflight' ? 'preflight' : 'response',
    url: report.steps[blocked.step - 1]!.sent!.url,
    kind: CONSOLE_KIND[blocked.reason] ?? blocked.reason,
  };
}

/** Polls `read` until it gives a value or 5 s pass (not an assertion on time: a missing message fails later). */
async function waitFor<T>(read: () => T | undefined): Promise<T | undefined> {
  for (let waited = 0; waited < 5000; waited += 50) {
    const value = read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return read();
}

interface PageRun {
  page: Page;
  errors: string[];
}

describe('the doctor agrees with headless Chromium', () => {
  let browser: Browser;
  let pages: { allowed: Listening; denied: Listening };
  let cases: Awaited<ReturnType<typeof startCaseServer>>;
  let nest: INestApplication;
  let nestOrigin: string;
  const runs: Partial<Record<'allowed' | 'denied', PageRun>> = {};

  beforeAll(async () => {
    const servePage = (_req: unknown, res: import('node:http').ServerResponse) => void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>doctor</title>');
    pages = { allowed: await listen(servePage), denied: await listen(servePage) };
    cases = await startCaseServer(pages.allowed.origin);
    nest = await createApp({
      imports: [IdentityCorsModule.forRoot({ identity: { clients: [{ clientId: 'spa', allowedCorsOrigins: [pages.allowed.origin] }] } })],
      controllers: [IdentityController],
    });
    await nest.listen(0, '127.0.0.1');
    nestOrigin = (await nest.getUrl()).replace('[::1]', '127.0.0.1');
    browser = await launchChromium();
    for (const which of ['allowed', 'denied'] as const) {
      const page = await (await browser.newContext()).newPage();
      const errors: string[] = [];
      page.on('console', (message: ConsoleMessage) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await page.goto(`${pages[which].origin}/`);
      runs[which] = { page, errors };
    }
  }, BROWSER_TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    await nest?.close();
    await cases?.close();
    await pages?.allowed.close();
    await pages?.denied.close();
  });

  it('has at least 25 server behaviours, two of them the library from an allowed and a denied origin', () => {
    expect(CORS_CASES.length).toBeGreaterThanOrEqual(25);
    expect(CORS_CASES.filter((c) => c.nest?.page === 'allowed').length).toBeGreaterThanOrEqual(1);
    expect(CORS_CASES.filter((c) => c.nest?.page === 'denied').length).toBeGreaterThanOrEqual(1);
  });

  it.each(CORS_CASES.map((c) => [c.name, c] as const))('%s', async (_name, corsCase: CorsCase) => {
    const which = corsCase.nest?.page ?? 'allowed';
    const { page, errors } = runs[which]!;
    const url = corsCase.nest ? `${nestOrigin}${corsCase.nest.path}` : `${cases.self.origin}/case/${corsCase.name}`;
    const method = corsCase.request?.method ?? 'GET';
    const headers = corsCase.request?.headers ?? {};
    const credentials = corsCase.request?.credentials ?? false;

    errors.length = 0;
    const browserResult = await page.evaluate(
      async ({ url, init }) => {
        try {
          const response = await fetch(url, init);
          return { allowed: true, readable: [...response.headers.keys()].sort() };
        } catch (error) {
          return { allowed: false, error: String(error), readable: [] as string[] };
        }
      },
      { url, init: { method, headers, credentials: credentials ? ('include' as const) : ('same-origin' as const) } },
    );
    let browserOutcome: Outcome = { allowed: true };
    if (!browserResult.allowed) {
      // the console message comes on its own event, around the time fetch() rejects
      const message = await waitFor(() => errors.find((e) => e.includes('blocked by CORS policy')));
      browserOutcome = message ? outcomeFromConsole(message) : { allowed: false, kind: `no console message (${browserResult.error})` };
    }

    const report = await runDoctor({ url, origin: pages[which].origin, method, headers: Object.entries(headers), credentials, timeoutMs: 5000 });
    expect(outcomeFromDoctor(report)).toEqual(browserOutcome);
    // and the row tests what its name says
    const [phase, kind] = corsCase.expected === 'allowed' ? [] : corsCase.expected;
    expect({ allowed: browserOutcome.allowed, phase: browserOutcome.phase, kind: browserOutcome.kind }).toEqual(
      corsCase.expected === 'allowed' ? { allowed: true } : { allowed: false, phase: phase === 'preflight' ? 'preflight' : 'response', kind: CONSOLE_KIND[kind!] ?? kind },
    );
    if (corsCase.expected !== 'allowed') expect([report.blocked!.at, report.blocked!.reason]).toEqual(corsCase.expected);
    expect(report.warnings.map((w) => w.code).sort()).toEqual([...(corsCase.warnings ?? [])].sort());
    if (corsCase.compareReadable) expect(report.readableHeaders).toEqual(browserResult.readable);
  }, BROWSER_TIMEOUT);
});
