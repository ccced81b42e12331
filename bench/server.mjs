// One benchmark server: `node bench/server.mjs <config> [port]`, the app of apps.mjs listening on loopback.
// Prints one JSON line `{"ready":true,"port":…}` when listening, then serves until killed.
import { createBenchApp } from './apps.mjs';

const config = process.argv[2];
const port = Number(process.argv[3] ?? 0);
// 'early', 'module' or 'express': see createBenchApp in apps.mjs
const mount = process.env.BENCH_MOUNT ?? 'early';

// Exit normally on SIGTERM, so `node --cpu-prof bench/server.mjs …` writes its profile.
process.on('SIGTERM', () => process.exit(0));

try {
  const app = await createBenchApp(config, mount);
  await app.listen(port, '127.0.0.1');
  const heapUsed = process.memoryUsage().heapUsed;
  process.stdout.write(`${JSON.stringify({ ready: true, port: app.getHttpServer().address().port, heapUsed })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ready: false, error: String(error?.message ?? error).split('\n')[0] })}\n`);
  process.exit(1);
}
