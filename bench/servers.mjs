// Benchmark server processes (bench/server.mjs), shared by run.mjs and cpu-per-request.mjs.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const READY_TIMEOUT_MS = 180_000;

/** Starts `node bench/server.mjs <config>` with BENCH_MOUNT = mount; resolves once it listens. */
export function startServer(config, mount) {
  const child = spawn(process.execPath, [join(here, 'server.mjs'), config], {
    cwd: root,
    env: { ...process.env, BENCH_MOUNT: mount },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server ${config} was not ready within ${READY_TIMEOUT_MS / 1000} s`));
    }, READY_TIMEOUT_MS);
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline === -1) return;
      clearTimeout(timer);
      const message = JSON.parse(buffer.slice(0, newline));
      if (message.ready) resolve({ child, port: message.port, heapUsed: message.heapUsed });
      else reject(new Error(`server ${config} failed to start: ${message.error}\n${stderr}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server ${config} exited (${code}) before it was ready\n${stderr}`));
    });
  });
}

/** Stops a server from startServer: SIGTERM, then SIGKILL after 5 s. */
export function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}
