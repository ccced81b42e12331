import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CORS_CASES, type Answer, type CorsCase } from './cors-cases.js';

export interface Listening {
  origin: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, on a port the OS picks. */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listening> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/**
 * The raw server of the case table, on two ports (the second for cross-origin redirects): /case/<name> answers
 * OPTIONS with the case's preflight answer and other methods with its actual answer; /case/<name>/target
 * likewise with its targetPreflight and target answers.
 */
export async function startCaseServer(pageOrigin: string): Promise<{ self: Listening; other: Listening; close(): Promise<void> }> {
  const byName = new Map<string, CorsCase>(CORS_CASES.map((c) => [c.name, c]));
  let other = '';
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const [, prefix, name, rest] = (req.url ?? '').split('?')[0]!.split('/');
    const corsCase = prefix === 'case' ? byName.get(name ?? '') : undefined;
    const answer: Answer | undefined = !corsCase ? undefined : rest === 'target' ? (req.method === 'OPTIONS' ? corsCase.targetPreflight ?? { status: 404 } : corsCase.target ?? {}) : req.method === 'OPTIONS' ? corsCase.preflight ?? { status: 404 } : corsCase.actual ?? {};
    if (!answer) {
      res.writeHead(404).end();
      return;
    }
    const ctx = { origin: req.headers.origin ?? '', page: pageOrigin, other };
    // setHeader would merge repeated names; the table needs them as separate header lines
    const headers = [['Content-Type', 'text/plain'], ...(answer.headers?.(ctx) ?? [])].flat();
    res.writeHead(answer.status ?? 200, headers);
    res.end(req.method === 'OPTIONS' || answer.status === 204 ? undefined : 'ok');
  };
  const self = await listen(handler);
  const second = await listen(handler);
  other = second.origin;
  return { self, other: second, close: async () => { await self.close(); await second.close(); } };
}
