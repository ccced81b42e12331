// The CORS layer alone: one call of each configuration's CORS layer, then writeHead, on real node:http
// request and response objects (an Express response, as Express makes it), with no socket, no router and no
// handler. What remains is the work the layer adds to a request, which HTTP throughput shows only through the
// noise of the rest of the stack.
//
// On Fastify (fa–fe) a call is the whole request without the socket: the HTTP server's request listener
// (Fastify's: router, hooks, the Nest handler, serialization, writeHead and end; in (fc)–(fe) the library's listener
// in front of it, which answers preflights itself) on socket-less node:http
// objects, awaited until the response ends. Fastify's own work is the same in every configuration, so (fa) minus
// it leaves what the CORS layer adds: the library's edge, or @fastify/cors with Nest's copy of its headers.
//
//   node bench/layer.mjs [scenario]          nanoseconds per call, configurations alternated (quick, noisy)
//   bash bench/layer-instructions.sh         instructions per call under callgrind (exact to about ±1 %)
//
// Configuration (a) calls no layer: its cost is the baseline the others are measured against ((fa) on Fastify).
// The app is mounted as BENCH_MOUNT says (see createBenchApp): by default a request goes through the library's
// HTTP-server listener, then Express's set-up and the library's middleware, as on a server; with 'express'
// (handleBeforeExpress: false) through the middleware alone.
import { execSync } from 'node:child_process';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { createBenchApp } from './apps.mjs';
import { basesOf, CONFIGS, isFastify, SCENARIOS } from './fixtures.mjs';

/**
 * A string of its own with the same characters, as Node's HTTP parser makes one per request for the target and each
 * header value: V8 has not hashed it yet, and it is not the object a memo stored. Reusing the scenario's strings made
 * every memo lookup look free (their hashes cached, keys compared by identity), which over HTTP cost about 1 k
 * instructions per identity preflight (bench/instructions.sh, V8's ComputeAndSetRawHash). (fa) and (a) pay it too.
 */
const fresh = (value) => Buffer.from(value, 'latin1').toString('latin1');
/** The scenario's headers as a parser gives them: names as Node's (shared strings), values fresh. */
const freshHeaders = (headers) => {
  const copy = { host: fresh('127.0.0.1:3000') };
  for (const name in headers) copy[name] = fresh(headers[name]);
  return copy;
};

const writeHead = (res) => {
  if (!res.headersSent) res.writeHead(200);
};

/** A response that says when it ends: Fastify's handlers answer asynchronously, and a socket-less response never emits 'finish'. */
class EndingResponse extends ServerResponse {
  constructor(req, done) {
    super(req);
    this.done = done;
  }
  end(...args) {
    const returned = super.end(...args);
    this.done();
    return returned;
  }
}

/** A Fastify configuration's call: one request through the HTTP server's request listener (Fastify's, or what wraps it); resolves when its response ends. */
async function fastifyCall(app, config, scenario) {
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.ready();
  const server = app.getHttpServer();
  const listeners = server.listeners('request');
  if (listeners.length !== 1) throw new Error(`expected one request listener on the Fastify server, found ${listeners.length}`);
  const [listener] = listeners;
  const socket = new Socket();
  const { method, headers } = SCENARIOS[scenario];
  const url = CONFIGS[config].path;
  const call = () =>
    new Promise((resolve) => {
      const req = new IncomingMessage(socket);
      req.method = method;
      req.url = fresh(url);
      req.headers = freshHeaders(headers);
      listener.call(server, req, new EndingResponse(req, resolve));
    });
  await call();
  return { call, close: () => app.close() };
}

/** A function that builds one request and response for `scenario` and runs them through the app's CORS layer. */
async function layerCall(config, scenario) {
  const mount = process.env.BENCH_MOUNT ?? 'early';
  const app = await createBenchApp(config, mount);
  await app.init();
  if (isFastify(config)) return fastifyCall(app, config, scenario);
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
    req.url = fresh(url);
    req.headers = freshHeaders(headers);
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
  // Fastify's calls are awaited one by one (their answers are asynchronous); Express's return nothing, and are
  // not awaited: an await would add a turn of the microtask queue to every count.
  for (let i = 0; i < 20_000; i++) {
    const pending = call();
    if (pending) await pending;
  }
  execSync(`callgrind_control -i on ${process.pid}`);
  for (let i = 0; i < n; i++) {
    const pending = call();
    if (pending) await pending;
  }
  execSync(`callgrind_control -i off ${process.pid}`);
  process.exit(0);
}

const configs = (process.env.LAYER_CONFIGS ?? 'a,b,c,d').split(',');
const calls = {};
for (const config of configs) calls[config] = await layerCall(config, scenario);
const batch = 20_000;
const samples = Object.fromEntries(configs.map((config) => [config, []]));
/** `count` calls, each awaited if it returns a promise (Fastify's). */
async function repeat(call, count) {
  for (let i = 0; i < count; i++) {
    const pending = call();
    if (pending) await pending;
  }
}
for (const config of configs) await repeat(calls[config].call, batch * 3);
for (let round = 0; round < 15; round++) {
  for (const config of configs) {
    const start = process.hrtime.bigint();
    await repeat(calls[config].call, batch);
    samples[config].push(Number(process.hrtime.bigint() - start) / batch);
  }
}
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
console.log(`| configuration | ns per call | the layer's own ns |\n| --- | ---: | ---: |`);
for (const config of configs) {
  const ns = median(samples[config]);
  const base = basesOf(config).none;
  const own = config === base || !samples[base] ? '' : (ns - median(samples[base])).toFixed(0);
  console.log(`| (${config}) ${CONFIGS[config].label} | ${ns.toFixed(0)} | ${own} |`);
}
for (const config of configs) await calls[config].close();
