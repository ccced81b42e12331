import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { CorsExplainer } from '../../lib/handler/cors-explainer.js';

/**
 * Issue 18: `explain` agrees with real requests. Every request a createApp app serves is explained afterwards
 * with the same method, target and headers; the explainer's access-control headers must be the response's
 * (names and values), and every Vary field it lists must be in the response's Vary. Mismatches fail the
 * test that sent the request (the afterEach in explain-agreement.setup.ts).
 */
/**
 * When each request is explained:
 * - `after-test` (the default): when the test ends or closes the app, so that a service or provider that
 *   counts its calls is asked once more per request only after the test has read its count;
 * - `at-response`: as its response finishes, for a test that changes the policies between requests
 *   (a store write) and reads no count;
 * - `false`: never, for an app whose own code writes access-control headers (an exception filter that does).
 */
export type ExplainerAgreement = 'after-test' | 'at-response' | false;

const queued: Array<() => Promise<void>> = [];
const running = new Set<Promise<void>>();
const mismatches: string[] = [];

const checked = new WeakSet<INestApplication>();

/** Watches every request `app` serves from now on (once per app); its close first explains the requests it served. */
export function checkExplainerAgreement(app: INestApplication, when: ExplainerAgreement = 'after-test'): void {
  if (when === false || checked.has(app)) return;
  checked.add(app);
  let explainer: CorsExplainer;
  try {
    explainer = app.get(CorsExplainer, { strict: false });
  } catch {
    return; // An app without IdentityCorsModule: nothing to explain.
  }
  const server = app.getHttpServer() as Server;
  // Seen through emit, not a listener of its own: the module replaces the server's listeners as the app initializes.
  const emit = server.emit;
  server.emit = function emitChecked(this: Server, event: string | symbol, ...args: unknown[]) {
    if (event === 'request') watch(args[0] as IncomingMessage, args[1] as ServerResponse);
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  } as Server['emit'];
  function watch(req: IncomingMessage, res: ServerResponse): void {
    // Taken now: the app may rewrite req.url or headers while it serves the request.
    const request = { method: req.method ?? 'GET', path: req.url ?? '', headers: { ...req.headers } };
    res.once('finish', () => {
      const sent = sentHeaders(res);
      const check = () =>
        explainer.explain({ method: request.method, path: request.path, headers: stringHeaders(request.headers) }).then(
          (explanation) => {
            const problem = compare(explanation.headers, sent);
            if (problem) mismatches.push(`${request.method} ${request.path} ${JSON.stringify(request.headers)}: ${problem}`);
          },
          (error: unknown) => void mismatches.push(`${request.method} ${request.path}: explain threw ${String(error)}`),
        );
      if (when === 'after-test') return void queued.push(check);
      const started = check();
      running.add(started);
      void started.finally(() => running.delete(started));
    });
  }
  const close = app.close.bind(app);
  app.close = async () => {
    await settle();
    return close();
  };
}

/** Explains the requests served so far; returns the mismatches found so far and forgets them. */
export async function takeExplainerMismatches(): Promise<string[]> {
  await settle();
  return mismatches.splice(0);
}

async function settle(): Promise<void> {
  while (running.size > 0) await Promise.all(running);
  for (let check = queued.shift(); check !== undefined; check = queued.shift()) await check();
}

/**
 * The headers the response sent, from the header block Node wrote (`_header`): getHeaders() misses those a framework
 * passes to writeHead when no header was set before (Fastify passes its reply's there). getHeaders() when absent.
 */
function sentHeaders(res: ServerResponse): Record<string, unknown> {
  const block = (res as { _header?: unknown })._header;
  if (typeof block !== 'string') return res.getHeaders();
  const headers: Record<string, string[]> = {};
  for (const line of block.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    (headers[line.slice(0, colon).trim().toLowerCase()] ??= []).push(line.slice(colon + 1).trim());
  }
  return headers;
}

function stringHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) result[name] = Array.isArray(value) ? value.join(', ') : value;
  return result;
}

function compare(explained: Record<string, string>, sent: Record<string, unknown>): string | undefined {
  const explainedAc = accessControl(explained);
  const sentAc = accessControl(sent);
  if (JSON.stringify(explainedAc) !== JSON.stringify(sentAc)) return `explained ${JSON.stringify(explainedAc)}, sent ${JSON.stringify(sentAc)}`;
  const sentVary = fields(sent.vary);
  const explainedVary = fields(Object.entries(explained).find(([name]) => name.toLowerCase() === 'vary')?.[1]);
  const missing = sentVary.includes('*') ? [] : explainedVary.filter((field) => !sentVary.includes(field));
  return missing.length > 0 ? `Vary ${JSON.stringify(sent.vary)} lacks ${missing.join(', ')}` : undefined;
}

/** The access-control headers by lower-case name, sorted. */
function accessControl(headers: Record<string, unknown>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of Object.keys(headers).map((key) => key.toLowerCase()).sort()) {
    if (!name.startsWith('access-control-')) continue;
    const value = Object.entries(headers).find(([key]) => key.toLowerCase() === name)![1];
    result[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return result;
}

function fields(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : String(value))
    .split(',')
    .map((field) => field.trim().toLowerCase())
    .filter((field) => field !== '');
}
