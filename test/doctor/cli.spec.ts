import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { main } from '../../lib/cli/cli.js';
import { listen, type Listening } from './cors-case-server.js';

const run = promisify(execFile);
const PAGE = 'http://localhost:4200';

/** Runs the CLI in-process; returns its exit code and what it wrote. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

describe('nest-identity-cors doctor (CLI)', () => {
  let server: Listening;
  beforeAll(async () => {
    // /allowed allows the page (preflights for PUT and X-Api-Key too), other origins get only Vary: Origin;
    // /denied answers without CORS headers
    server = await listen((req: IncomingMessage, res: ServerResponse) => {
      const allowed = req.url === '/allowed' && req.headers.origin === PAGE;
      const cors = allowed ? { 'Access-Control-Allow-Origin': PAGE, Vary: 'Origin', 'Access-Control-Allow-Methods': 'PUT', 'Access-Control-Allow-Headers': 'X-Api-Key' } : req.url === '/allowed' ? { Vary: 'Origin' } : {};
      res.writeHead(req.method === 'OPTIONS' ? 204 : 200, cors).end();
    });
  });
  afterAll(() => server.close());

  it('exits 0 and says the browser allows an allowed request, step by step', async () => {
    const { code, stdout } = await cli('doctor', `${server.origin}/allowed`, '--origin', PAGE);
    expect(code).toBe(0);
    expect(stdout).toContain(`1. [request] GET ${server.origin}/allowed from ${PAGE}`);
    expect(stdout).toContain('No preflight');
    expect(stdout).toContain(`2. [actual] GET ${server.origin}/allowed`);
    expect(stdout).toContain(`> Origin: ${PAGE}`);
    expect(stdout).toContain('Verdict: the browser allows this.');
  });

  it('exits 1 and names the step, the reason and a fix for a blocked request', async () => {
    const { code, stdout } = await cli('doctor', `${server.origin}/denied`, '--origin', PAGE);
    expect(code).toBe(1);
    expect(stdout).toContain('Verdict: the browser blocks this, at step 2 (actual), because the answer has no Access-Control-Allow-Origin header [allow-origin-missing].');
    expect(stdout).toContain(`Fix: answer with Access-Control-Allow-Origin: ${PAGE}.`);
  });

  it('tells a server that does CORS but not for this origin by its Vary: Origin, and says to list the origin', async () => {
    const { code, stdout } = await cli('doctor', `${server.origin}/allowed`, '--origin', 'https://other.example');
    expect(code).toBe(1);
    expect(stdout).toContain('(the answer says Vary: Origin, so the server does CORS, and does not allow this origin)');
    expect(stdout).toContain("Fix: add https://other.example to the origins the server allows (with nest-identity-cors: a client's allowedCorsOrigins");
  });

  it('sends --method, --header and --credentials as a page would, preflight first', async () => {
    const { code, stdout } = await cli('doctor', `${server.origin}/allowed`, '--origin', PAGE, '--method', 'put', '--header', 'X-Api-Key: k', '--credentials', '--json');
    const report = JSON.parse(stdout);
    expect(report.request).toEqual({ url: `${server.origin}/allowed`, origin: PAGE, method: 'PUT', headers: [['X-Api-Key', 'k']], credentials: true });
    expect(report.steps[1].sent.headers).toContainEqual(['Access-Control-Request-Headers', 'x-api-key']);
    expect(report.steps[1].sent.headers).toContainEqual(['Access-Control-Request-Method', 'PUT']);
    // the server never says Access-Control-Allow-Credentials
    expect(report.blocked).toMatchObject({ step: 2, at: 'preflight', reason: 'allow-credentials-missing' });
    expect(code).toBe(1);
  });

  it('sends a header given without a value empty', async () => {
    const { stdout } = await cli('doctor', `${server.origin}/allowed`, '--origin', PAGE, '--header', 'X-Api-Key', '--json');
    expect(JSON.parse(stdout).request.headers).toEqual([['X-Api-Key', '']]);
  });

  it.each([
    [[], 'Usage: nest-identity-cors doctor'],
    [['lint'], "Unknown command 'lint'"],
    [['doctor', 'http://api.example/'], '--origin http://localhost:4200'],
    [['doctor', 'http://api.example/', '--origin', 'http://localhost:4200/app'], "'http://localhost:4200/app' is a URL, not an origin: use 'http://localhost:4200'"],
    [['doctor', 'api.example', '--origin', PAGE], "'api.example' is not a URL"],
    [['doctor', 'http://api.example/', '--origin', PAGE, '--method', 'TRACE'], '--method TRACE is forbidden'],
    [['doctor', 'http://api.example/', '--origin', PAGE, '--header', 'Cookie: a=b'], '--header Cookie: script cannot set this header'],
    [['doctor', 'http://api.example/', '--origin', PAGE, '--timeout', 'soon'], "--timeout 'soon' is not a positive whole number"],
    [['doctor', 'http://api.example/', '--origin', PAGE, '--bogus'], "Unknown option '--bogus'"],
  ])('exits 2 on a usage error: %j', async (argv, message) => {
    const { code, stdout, stderr } = await cli(...argv);
    expect(code).toBe(2);
    expect(stdout + stderr).toContain(message);
  });

  it('exits 2 on a network error, saying it is not CORS (with --json, as JSON on stdout)', async () => {
    const closed = await listen(() => undefined);
    await closed.close();
    const { code, stderr } = await cli('doctor', `${closed.origin}/`, '--origin', PAGE);
    expect(code).toBe(2);
    expect(stderr).toContain('Network error, no answer to check');
    expect(stderr).toContain('ECONNREFUSED');
    const json = await cli('doctor', `${closed.origin}/`, '--origin', PAGE, '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: 'network', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('runs as the built bin (dist/cli/main.js, built here if missing)', async () => {
    if (!existsSync('dist/cli/main.js')) await run('npm', ['run', 'build']);
    const allowed = await run(process.execPath, ['dist/cli/main.js', 'doctor', `${server.origin}/allowed`, '--origin', PAGE, '--json']);
    expect(JSON.parse(allowed.stdout).verdict).toBe('allowed');
    const blocked = await run(process.execPath, ['dist/cli/main.js', 'doctor', `${server.origin}/denied`, '--origin', PAGE]).catch((error: { code: number; stdout: string }) => error);
    expect('code' in blocked ? blocked.code : 0).toBe(1);
    expect(blocked.stdout).toContain('Verdict: the browser blocks this');
  }, 120_000);
});
