import 'reflect-metadata';
import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { useIdentityCors } from 'nest-identity-cors';
import { TypeOrmClientStore } from 'nest-identity-cors/typeorm';
import { CLIENT_STORES, seedClients, type ClientStoreKind, type SampleDatabase } from './clients/client-store.js';
import { readClientsFile } from './clients/clients-file.js';
import { SampleAppModule } from './sample-app.module.js';
import { DEFAULT_CLIENTS_FILE } from './sample-paths.js';
import { startSpaServer } from './spa/spa-server.js';

export interface SampleOptions {
  /** Port of the identity server and API. Default 3000. */
  port?: number;
  /** Ports serving the browser app: the first is the allowed origin, the others are not. Default [4200, 4300]. */
  spaPorts?: number[];
  /** Issuer URL. Default http://localhost:<port>. */
  issuer?: string;
  /** The clients JSON file. Default sample-app/config/clients.json. */
  clientsFile?: string;
  /** Where the library reads the clients' CORS origins: 'memory' (its options) or 'typeorm' (a database seeded from the clients file). Default 'memory'. */
  clientStore?: ClientStoreKind;
  /** The typeorm store's database: PostgreSQL at `url`, else SQLite (sql.js) in `sqliteFile`, else SQLite in memory. Ignored with 'memory'. */
  database?: SampleDatabase;
  /** The SPA's client id. Default 'spa'. */
  spaClientId?: string;
  /** Nest's HTTP platform: 'express' (Nest's default) or 'fastify' (`new FastifyAdapter()`). Default 'express'. */
  platform?: SamplePlatform;
  /** Nest's logger option. Default: Nest's console logger without debug and verbose lines (`LOG_LEVEL=debug` adds them). */
  logger?: LoggerService | LogLevel[] | false;
}

export interface RunningSample {
  app: INestApplication;
  issuer: string;
  /** http://localhost:<port> for each SPA port, the allowed one first. */
  spaOrigins: string[];
  close(): Promise<void>;
}

export class SampleConfigError extends Error {
  override name = 'SampleConfigError';
}

/** A port is taken; `code` as Node's own listen error, so callers that retry on EADDRINUSE still do. */
export class PortInUseError extends SampleConfigError {
  override name = 'PortInUseError';
  readonly code = 'EADDRINUSE';
}

const DEFAULTS = { port: 3000, spaPorts: [4200, 4300] };

/** Nest's HTTP platforms the sample runs on (PLATFORM), the default first. */
export const PLATFORMS = ['express', 'fastify'] as const;
export type SamplePlatform = (typeof PLATFORMS)[number];

/** LOG_LEVEL's values, most severe first: each level also shows the ones before it. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const satisfies readonly LogLevel[];
const DEFAULT_LOG_LEVEL = 'log';

function logLevels(name: string, value: string): LogLevel[] {
  const index = (LOG_LEVELS as readonly string[]).indexOf(value);
  if (index < 0) throw new SampleConfigError(`${name} '${value}' is not a log level: use one of ${LOG_LEVELS.join(', ')} (e.g. LOG_LEVEL=debug to see why CORS requests are denied)`);
  return LOG_LEVELS.slice(0, index + 1);
}

function checkPort(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new SampleConfigError(`${name} ${JSON.stringify(value)} is not a port: use a whole number from 1 to 65535`);
  return value;
}

function checkIssuer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SampleConfigError(`ISSUER '${value}' is not a URL: use e.g. 'http://localhost:3000'`);
  }
  if (!/^https?:$/.test(url.protocol) || url.search || url.hash) throw new SampleConfigError(`ISSUER '${value}' must be an http(s) URL without query or fragment, e.g. 'http://localhost:3000'`);
  return value.replace(/\/+$/, ''); // endpoint URLs are built as `${issuer}/connect/...`
}

function checkClientStore(value: string): ClientStoreKind {
  if (!(CLIENT_STORES as readonly string[]).includes(value)) {
    throw new SampleConfigError(`CLIENT_STORE '${value}' is not a client store: use ${CLIENT_STORES.map((s) => `'${s}'`).join(' or ')}`);
  }
  return value as ClientStoreKind;
}

function checkPlatform(value: string): SamplePlatform {
  if (!(PLATFORMS as readonly string[]).includes(value)) {
    throw new SampleConfigError(`PLATFORM '${value}' is not a platform the sample runs on: use ${PLATFORMS.map((p) => `'${p}'`).join(' or ')} (e.g. PLATFORM=fastify)`);
  }
  return value as SamplePlatform;
}

function checkDatabase(database: SampleDatabase): SampleDatabase {
  if (database.url && database.sqliteFile) throw new SampleConfigError('DATABASE_URL and SQLITE_FILE are both set: unset one (DATABASE_URL uses PostgreSQL, SQLITE_FILE a SQLite file)');
  // the scheme only: the URL may hold a password
  if (database.url && !/^postgres(ql)?:\/\//i.test(database.url)) {
    throw new SampleConfigError(`DATABASE_URL with scheme '${database.url.split(':')[0]}:' is not a PostgreSQL URL: use e.g. 'postgres://user@127.0.0.1:5432/identity', or unset it for SQLite`);
  }
  return database;
}

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/**
 * Fails with the variable to change when a port is taken. Checked before Nest starts, so a port in use is
 * reported once, by main.ts, instead of after Nest's own log of the listen error.
 */
async function checkPortFree(port: number, fix: string): Promise<void> {
  const probe = createServer();
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    probe.once('error', resolve);
    probe.listen(port, () => probe.close(() => resolve(undefined)));
  });
  if (error?.code === 'EADDRINUSE') throw new PortInUseError(`port ${port} is in use by another program: stop it, or ${fix}`);
  if (error) throw error;
}

/** Starts the identity server (with the host API) and the browser app's servers; `close()` stops them all. */
export async function bootstrap(options: SampleOptions = {}): Promise<RunningSample> {
  const port = checkPort('PORT', options.port ?? DEFAULTS.port);
  const spaPorts = (options.spaPorts ?? DEFAULTS.spaPorts).map((p) => checkPort('SPA port', p));
  if (spaPorts.length === 0) throw new SampleConfigError('at least one SPA port is needed');
  const issuer = checkIssuer(options.issuer ?? `http://localhost:${port}`);
  const clientStore = checkClientStore(options.clientStore ?? 'memory');
  const platform = checkPlatform(options.platform ?? 'express');
  const database = clientStore === 'typeorm' ? checkDatabase(options.database ?? {}) : {};
  const clientsFile = options.clientsFile ?? DEFAULT_CLIENTS_FILE;
  const clients = readClientsFile(clientsFile);
  const spaOrigins = spaPorts.map((p) => `http://localhost:${p}`);
  const ports = [port, ...spaPorts];
  const repeated = ports.find((p, i) => ports.indexOf(p) !== i);
  if (repeated !== undefined) throw new SampleConfigError(`port ${repeated} is given twice (PORT ${port}, SPA_PORTS ${spaPorts.join(',')}): give every server its own port`);
  const other = (p: number) => (p < 65535 ? p + 1 : p - 1);
  await checkPortFree(port, `set PORT to a free port (e.g. PORT=${other(port)})`);
  const spaFix = `set SPA_PORTS to ${spaPorts.length > 1 ? 'free ports' : 'a free port'} (e.g. SPA_PORTS=${spaPorts.map(other).join(',')})`;
  for (const spaPort of spaPorts) await checkPortFree(spaPort, spaFix);

  // abortOnError: false makes a configuration error a rejected promise instead of process.exit. Nest's start-up
  // logs wait until the app exists, and are dropped if it never does: main.ts then reports the error once, instead
  // of after Nest's own log of it with a stack trace.
  const module = SampleAppModule.forRoot({ issuer, clients, partnerOrigin: spaOrigins[0]!, clientStore, database });
  const nestOptions = { abortOnError: false, bufferLogs: true, autoFlushLogs: false, logger: options.logger ?? logLevels('LOG_LEVEL', DEFAULT_LOG_LEVEL) };
  // The one line that differs between the platforms, as README's Fastify section says: the library and the
  // sample's controllers are the same on both.
  const app: INestApplication =
    platform === 'fastify' ? await NestFactory.create(module, new FastifyAdapter(), nestOptions) : await NestFactory.create(module, nestOptions);
  app.flushLogs();
  const spaServers: Server[] = [];
  const close = async () => {
    await Promise.all(spaServers.map(closeServer));
    await app.close();
  };
  try {
    if (clientStore === 'typeorm') await seedClients(app.get(TypeOrmClientStore), clients, clientsFile);
    useIdentityCors(app); // before the body parsers, so a malformed token request's 400 carries CORS headers too
    await app.listen(port); // Fastify listens on localhost only (its default), Express on every interface
    for (const spaPort of spaPorts) spaServers.push(await startSpaServer(spaPort, { authority: issuer, clientId: options.spaClientId ?? 'spa' }));
  } catch (error) {
    await close();
    throw error;
  }
  return { app, issuer, spaOrigins, close };
}

/** Reads PORT, SPA_PORTS (or SPA_PORT / SPA_DENIED_PORT), ISSUER, CLIENTS_FILE, CLIENT_STORE, DATABASE_URL, SQLITE_FILE, PLATFORM and LOG_LEVEL. */
export function optionsFromEnv(env: NodeJS.ProcessEnv): SampleOptions {
  const number = (name: string, value: string) => {
    if (!/^\d+$/.test(value.trim())) throw new SampleConfigError(`${name}='${value}' is not a port: use a whole number such as 4200`);
    return checkPort(name, Number(value));
  };
  let spaPorts: number[] | undefined;
  if (env.SPA_PORTS) spaPorts = env.SPA_PORTS.split(',').map((p) => number('SPA_PORTS', p));
  else if (env.SPA_PORT || env.SPA_DENIED_PORT) {
    spaPorts = [number('SPA_PORT', env.SPA_PORT ?? String(DEFAULTS.spaPorts[0])), number('SPA_DENIED_PORT', env.SPA_DENIED_PORT ?? String(DEFAULTS.spaPorts[1]))];
  }
  return {
    ...(env.PORT ? { port: number('PORT', env.PORT) } : {}),
    ...(spaPorts ? { spaPorts } : {}),
    ...(env.ISSUER ? { issuer: env.ISSUER } : {}),
    ...(env.CLIENTS_FILE ? { clientsFile: env.CLIENTS_FILE } : {}),
    ...(env.CLIENT_STORE ? { clientStore: checkClientStore(env.CLIENT_STORE) } : {}),
    ...(env.PLATFORM ? { platform: checkPlatform(env.PLATFORM) } : {}),
    ...(env.LOG_LEVEL ? { logger: logLevels('LOG_LEVEL', env.LOG_LEVEL) } : {}),
    // the database variables only matter to the typeorm store (DATABASE_URL may be set for the tests)
    ...(env.CLIENT_STORE === 'typeorm' && (env.DATABASE_URL || env.SQLITE_FILE)
      ? { database: { ...(env.DATABASE_URL ? { url: env.DATABASE_URL } : {}), ...(env.SQLITE_FILE ? { sqliteFile: env.SQLITE_FILE } : {}) } }
      : {}),
  };
}
