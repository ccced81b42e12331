// The CORS layer alone: one call of each configuration's CORS layer, then writeHead, on real node:http
// request and response objects (an Express response, as Express makes it), with no socket, no router and no
// handler. What remains is the work the layer adds to a request, which HTTP throughput shows only through the
// noise of the rest of the stack.
//
//   node bench/layer.mjs [scenario]          nanoseconds per call, configurations alternated (quick, noisy)
//   bash bench/layer-instructions.sh         instructions per call under callgrind (exact to about ±1 %)
//
// Configuration (a) calls no layer: its cost is the baseline the others are measured against. The app is
// mounted as BENCH_MOUNT says (see createBenchApp): by default a request goes through the library's HTTP-server
// listener, then Express's set-up and the library's middleware, as on a server; with 'express'
// (handleBeforeExpress: false) through the middleware alone.
import { execSync } from 'node:child_process';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { createBenchApp } from './apps.mjs';
import { CONFIGS, SCENARIOS } from './fixtures.mjs';

const writeHead = (res) => {
  if (!res.headersSent) res.writeHead(200);
};

/** A function that builds one request and response for `scenario` and runs them through the app's CORS layer. */
async function layerCall(config, scenario) {
  const mount = process.env.BENCH_MOUNT ?? 'early';
  const app = await createBenchApp(config, mount);
  await app.init();
  const express = app.getHttpAdapter().getInstance();
  let layer;
  let first; // the library's HTTP-server listener, which runs before Express unless mount is 'express'
  if (config === 'b') layer = express.router.stack.find((l) => l.name === 'corsMiddleware').handle;
  else if (config !== 'a') {
    const { ExpressCorsMiddleware } = await import('../dist/platform/express/express-cors.middleware.js');
    const middleware = app.get(ExpressCorsMiddleware, { strict: false });
    layer = (req, res, next) => middleware.use(req, res, next);
    if (mount !== 'express') first = (req, res, pass) => middleware.handleFirst(req, res, pass);
  }
  // What Express's app.handle does before routing, then the layer's Express middleware.
  const enterExpress = (req, res) => {
    res.setHeader('X-Powered-By', 'Express');
    Object.setPrototypeOf(req, express.request);
    Object.setPrototypeOf(res, express.response);
    if (!res.locals) res.locals = Object.create(null);
    // Headers are written where the next handler would run: after an asynchronous first decision too.
    if (layer) layer(req, res, () => writeHead(res));
    else writeHead(res);
  };
  const socket = new Socket();
  const { method, headers } = SCENARIOS[scenario];
  const url = CONFIGS[config].path;
  const call = () => {
    const req = new IncomingMessage(socket);
    req.method = method;
    req.url = url;
    req.headers = { host: '127.0.0.1:3000', ...headers };
    const res = new ServerResponse(req);
    if (first) first(req, res, enterExpress);
    else enterExpress(req, res);
  };
  // Let asynchronous first answers land (f's first lookup is a database query that fills its cache): the
  // measured calls run back to back, with no turn of the event loop in between.
  call();
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { call, close: () => app.close() };
}

const scenario = process.env.LAYER_SCENARIO ?? process.argv[2] ?? 'allowed';
if (!SCENARIOS[scenario]) throw new Error(`unknown scenario '${scenario}': use one of ${Object.keys(SCENARIOS).join(', ')}`);

if (process.env.LAYER_COUNT) {
  // Under callgrind (layer-instructions.sh): warm up with instrumentation off, then count `n` calls.
  const { call } = await layerCall(process.env.LAYER_CONFIG, scenario);
  const n = Number(process.env.LAYER_COUNT);
  for (let i = 0; i < 20_000; i++) call();
  execSync(`callgrind_control -i on ${process.pid}`);
  for (let i = 0; i < n; i++) call();
  execSync(`callgrind_control -i off ${process.pid}`);
  process.exit(0);
}

const configs = (process.env.LAYER_CONFIGS ?? 'a,b,c,d').split(',');
const calls = {};
for (const config of configs) calls[config] = await layerCall(config, scenario);
const batch = 20_000;
const samples = Object.fromEntries(configs.map((config) => [config, []]));
for (const config of configs) for (let i = 0; i < batch * 3; i++) calls[config].call();
for (let round = 0; round < 15; round++) {
  for (const config of configs) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) calls[config].call();
    samples[config].push(Number(process.hrtime.bigint() - start) / batch);
  }
}
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
const base = median(samples.a ?? [0]);
console.log(`| configuration | ns per call | the layer's own ns |\n| --- | ---: | ---: |`);
for (const config of configs) {
  const ns = median(samples[config]);
  console.log(`| (${config}) ${CONFIGS[config].label} | ${ns.toFixed(0)} | ${config === 'a' ? '' : (ns - base).toFixed(0)} |`);
}
for (const config of configs) await calls[config].close();
