import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { InvalidOriginError, type CorsClient } from 'nest-identity-cors';
import { CORS_TYPEORM_ENTITIES, type TypeOrmClientStore } from 'nest-identity-cors/typeorm';
import { ClientsFileError } from './clients-file.js';
import type { SampleClient } from './sample-client.interface.js';

/** Where the library finds the clients' CORS origins: its options (memory) or a database through TypeORM. */
export const CLIENT_STORES = ['memory', 'typeorm'] as const;
export type ClientStoreKind = (typeof CLIENT_STORES)[number];

/** The database of the typeorm store: PostgreSQL at `url`, else SQLite (sql.js) in `sqliteFile`, else SQLite in memory. */
export interface SampleDatabase {
  url?: string;
  sqliteFile?: string;
}

/** The CORS part of each client, as the library expects it; the library validates the origins. */
export const corsClients = (clients: SampleClient[]): CorsClient[] =>
  clients.map(({ clientId, allowedCorsOrigins, enabled }) => ({ clientId, allowedCorsOrigins, ...(enabled === undefined ? {} : { enabled }) }));

/** TypeORM options for the sample's database; `synchronize` creates the tables, which suits a sample (not production). */
export function dataSourceOptions(database: SampleDatabase): DataSourceOptions {
  const entities = [...CORS_TYPEORM_ENTITIES];
  if (database.url) {
    // Bounded waits, as docs/database-store.md advises, so an unreachable database fails in seconds.
    return { type: 'postgres', url: database.url, entities, synchronize: true, extra: { connectionTimeoutMillis: 2000, query_timeout: 2000 } };
  }
  if (database.sqliteFile) {
    mkdirSync(dirname(database.sqliteFile), { recursive: true }); // sql.js saves with writeFile, which needs the directory
    return { type: 'sqljs', location: database.sqliteFile, autoSave: true, entities, synchronize: true };
  }
  return { type: 'sqljs', entities, synchronize: true };
}

/**
 * Writes the file's clients to the database (upsert: running the sample again on the same database
 * replaces their origins instead of duplicating them). The store validates the origins on write; its
 * fix-it message is reported as a problem of the clients file, where the fix goes.
 */
export async function seedClients(store: TypeOrmClientStore, clients: SampleClient[], file: string): Promise<void> {
  for (const client of corsClients(clients)) {
    try {
      await store.upsert(client);
    } catch (error) {
      if (error instanceof InvalidOriginError || error instanceof TypeError) throw new ClientsFileError(file, [error.message]);
      throw error;
    }
  }
}

/** One line for the console: where the CORS origins are read from. */
export function describeClientStore(kind: ClientStoreKind = 'memory', database: SampleDatabase = {}): string {
  if (kind === 'memory') return 'in memory, from the clients file';
  if (database.url) return 'PostgreSQL (DATABASE_URL), seeded from the clients file';
  return `${database.sqliteFile ? `SQLite file ${database.sqliteFile}` : 'SQLite in memory (sql.js)'}, seeded from the clients file`;
}
