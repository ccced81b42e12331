import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { OIDC_CLIENT_BUNDLE, SPA_DIR } from '../sample-paths.js';

/** What the browser app is told about the identity server (served as /config.js). */
export interface SpaConfig {
  authority: string;
  clientId: string;
}

const JS = 'text/javascript; charset=utf-8';
const HTML = 'text/html; charset=utf-8';
// A fixed table, not a directory: nothing else on disk can be reached through this server.
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: join(SPA_DIR, 'index.html'), type: HTML },
  '/index.html': { file: join(SPA_DIR, 'index.html'), type: HTML },
  '/callback.html': { file: join(SPA_DIR, 'callback.html'), type: HTML },
  '/app.js': { file: join(SPA_DIR, 'app.js'), type: JS },
  '/oidc-client-ts.min.js': { file: OIDC_CLIENT_BUNDLE, type: JS },
};

/** Serves the static browser app (sample-app/spa) on one port: a separate origin from the identity server. */
export async function startSpaServer(port: number, config: SpaConfig): Promise<Server> {
  const configJs = `window.SAMPLE_CONFIG = ${JSON.stringify(config)};\n`;
  const server = createServer(async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://spa').pathname;
    } catch {
      return void res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Bad request URL'); // never crash on a bad request line
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    if (path === '/config.js') return void res.writeHead(200, { 'Content-Type': JS }).end(configJs);
    const entry = FILES[path];
    if (!entry) return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
    try {
      const body = await readFile(entry.file);
      res.writeHead(200, { 'Content-Type': entry.type }).end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`Cannot read ${path}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
