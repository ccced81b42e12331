// The doctor without a browser: each raw-server row of the case table gets the outcome and warnings the row
// states (doctor.browser.spec.ts checks that Chromium agrees), plus what the table does not show.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runDoctor } from '../../lib/doctor/doctor.js';
import { renderDoctorReport } from '../../lib/doctor/render.js';
import { CORS_CASES } from './cors-cases.js';
import { listen, startCaseServer, type Listening } from './cors-case-server.js';

const PAGE = 'http://localhost:4200';

describe('the doctor on the case table', () => {
  let cases: Awaited<ReturnType<typeof startCaseServer>>;
  beforeAll(async () => {
    cases = await startCaseServer(PAGE);
  });
  afterAll(() => cases.close());

  it.each(CORS_CASES.filter((c) => !c.nest).map((c) => [c.name, c] as const))('%s', async (_name, corsCase) => {
    const report = await runDoctor({
      url: `${cases.self.origin}/case/${corsCase.name}`,
      origin: PAGE,
      method: corsCase.request?.method ?? 'GET',
      headers: Object.entries(corsCase.request?.headers ?? {}),
      credentials: corsCase.request?.credentials ?? false,
    });
    expect(report.verdict === 'allowed' ? 'allowed' : [report.blocked!.at, report.blocked!.reason]).toEqual(corsCase.expected);
    expect(report.warnings.map((w) => w.code).sort()).toEqual([...(corsCase.warnings ?? [])].sort());
  });
});

describe('the doctor, beyond the table', () => {
  let server: Listening;
  let other: Listening;
  beforeAll(async () => {
    other = await listen((req: IncomingMessage, res: ServerResponse) => void res.writeHead(200, { 'Access-Control-Allow-Origin': '*' }).end());
    server = await listen((req: IncomingMessage, res: ServerResponse) => {
      const cors = { 'Access-Control-Allow-Origin': PAGE, Vary: 'Origin' };
      if (req.url === '/max-age') res.writeHead(204, { ...cors, 'Access-Control-Allow-Methods': 'PUT', 'Access-Control-Max-Age': '86400' });
      else if (req.url === '/max-age-words') res.writeHead(204, { ...cors, 'Access-Control-Allow-Methods': 'PUT', 'Access-Control-Max-Age': 'ten minutes' });
      else if (req.url === '/away') res.writeHead(303, { ...cors, Location: `${other.origin}/there` });
      else res.writeHead(200, cors);
      res.end();
    });
  });
  afterAll(async () => {
    await server.close();
    await other.close();
  });

  it('says what browsers keep of Access-Control-Max-Age, and warns above their caps', async () => {
    const report = await runDoctor({ url: `${server.origin}/max-age`, origin: PAGE, method: 'PUT' });
    expect(report.verdict).toBe('allowed');
    expect(report.steps[1]!.notes).toContain('Access-Control-Max-Age: 86400: Chromium keeps this preflight 7200 s, Firefox 86400 s.');
    expect(report.warnings.map((w) => w.code)).toEqual(['max-age-capped']);
  });

  it('warns of an Access-Control-Max-Age browsers ignore', async () => {
    const report = await runDoctor({ url: `${server.origin}/max-age-words`, origin: PAGE, method: 'PUT' });
    expect(report.steps[1]!.notes).toContain("Access-Control-Max-Age 'ten minutes' is not a number of seconds: browsers keep this preflight 5 seconds.");
    expect(report.warnings.map((w) => w.code)).toEqual(['max-age-invalid']);
  });

  it('follows a cross-origin 303: POST becomes GET without its body headers, and the Origin becomes null', async () => {
    const report = await runDoctor({ url: `${server.origin}/away`, origin: PAGE, method: 'POST', headers: [['Content-Type', 'text/plain']] });
    expect(report.verdict).toBe('allowed');
    expect(report.steps.map((s) => s.step)).toEqual(['request', 'redirect', 'request', 'actual']);
    expect(report.steps[1]!.notes).toContain("The redirect crosses origins: from here on the request's Origin is 'null', which only Access-Control-Allow-Origin: * or null accepts.");
    expect(report.steps[3]!.sent).toEqual({
      method: 'GET',
      url: `${other.origin}/there`,
      headers: [['Origin', 'null'], ['Accept', '*/*'], ['User-Agent', 'nest-identity-cors-doctor']],
    });
  });

  it('does not call a same-origin request at all', async () => {
    const report = await runDoctor({ url: `${server.origin}/`, origin: server.origin });
    expect(report).toMatchObject({ verdict: 'allowed', steps: [{ step: 'request', notes: ['Same origin: CORS does not apply, the browser sends the request as it is.'] }] });
  });

  it('renders warnings apart from the verdict', async () => {
    const text = renderDoctorReport(await runDoctor({ url: `${server.origin}/max-age`, origin: PAGE, method: 'PUT' }));
    expect(text).toContain('Warnings (the browser does not complain, a reviewer should):\n  - [max-age-capped, step 2] Access-Control-Max-Age 86400 is above');
    expect(text.endsWith('Verdict: the browser allows this.\n')).toBe(true);
  });
});
