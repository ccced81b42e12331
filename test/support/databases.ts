import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';
import { CORS_TYPEORM_ENTITIES } from 'nest-identity-cors/typeorm';

export type Backend = 'sqlite' | 'postgres';

/** SQLite always; PostgreSQL too when DATABASE_URL is set (as CI sets it). */
export const BACKENDS: Backend[] = ['sqlite', ...(process.env.DATABASE_URL ? (['postgres'] as const) : [])];

/** Counts the queries that read allowed origins (the policy service's lookup), through TypeORM's logger. */
export class QueryCounter implements TypeOrmLogger {
  lookups = 0;
  logQuery(query: string): void {
    if (/^SELECT 1 AS "hit" FROM .*cors_client_origins/i.test(query)) this.lookups++;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

/**
 * One test database: a temporary SQLite file (sql.js), or a fresh schema `cors_test_<random>` in the
 * PostgreSQL of DATABASE_URL, so parallel runs never see each other's rows. `open()` gives a new
 * DataSource on the same data (one per simulated app instance); `dispose()` drops it all.
 */
export class TestDatabase {
  private readonly dataSources: DataSource[] = [];
  private constructor(
    readonly backend: Backend,
    private readonly place: string,
  ) {}

  static async create(backend: Backend): Promise<TestDatabase> {
    if (backend === 'sqlite') return new TestDatabase(backend, join(mkdtempSync(join(tmpdir(), 'cors-test-')), 'cors.sqlite'));
    const schema = `cors_test_${randomBytes(6).toString('hex')}`;
    await withPostgres((admin) => admin.query(`CREATE SCHEMA ${schema}`));
    return new TestDatabase(backend, schema);
  }

  /** A new, initialized DataSource; `url` replaces DATABASE_URL (e.g. to go through a TcpProxy). */
  async open(options: { url?: string; logger?: TypeOrmLogger } = {}): Promise<DataSource> {
    const logging = options.logger ? { logger: options.logger, logging: ['query' as const] } : {};
    const dataSource =
      this.backend === 'sqlite'
        ? new DataSource({ type: 'sqljs', location: this.place, autoSave: true, entities: [...CORS_TYPEORM_ENTITIES], synchronize: true, ...logging })
        : new DataSource({
            type: 'postgres',
            url: options.url ?? postgresUrl(),
            schema: this.place,
            entities: [...CORS_TYPEORM_ENTITIES],
            synchronize: true,
            // Bounded waits, so a database that is cut off fails requests quickly instead of hanging them.
            extra: { connectionTimeoutMillis: 2000, query_timeout: 2000 },
            ...logging,
          });
    this.dataSources.push(dataSource);
    await dataSource.initialize().catch((error: Error) => {
      throw this.backend === 'postgres' ? unreachable(error) : error;
    });
    return dataSource;
  }

  /**
   * This database for an app configured by connection string alone (the sample's DATABASE_URL or
   * SQLITE_FILE): the SQLite file, or DATABASE_URL with its search_path set to the test schema.
   */
  get connection(): { url: string } | { sqliteFile: string } {
    if (this.backend === 'sqlite') return { sqliteFile: this.place };
    const url = new URL(postgresUrl());
    url.searchParams.set('options', `-c search_path=${this.place}`);
    return { url: url.toString() };
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(this.dataSources.filter((ds) => ds.isInitialized).map((ds) => ds.destroy()));
    if (this.backend === 'sqlite') rmSync(join(this.place, '..'), { recursive: true, force: true });
    else await withPostgres((admin) => admin.query(`DROP SCHEMA IF EXISTS ${this.place} CASCADE`));
  }
}

function postgresUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set');
  return url;
}

function unreachable(error: Error): Error {
  return new Error(`DATABASE_URL is set (${postgresUrl()}) but PostgreSQL cannot be used: ${error.message}. Start PostgreSQL or unset DATABASE_URL.`, { cause: error });
}

async function withPostgres<T>(work: (admin: DataSource) => Promise<T>): Promise<T> {
  const admin = new DataSource({ type: 'postgres', url: postgresUrl(), extra: { connectionTimeoutMillis: 5000, max: 1 } });
  try {
    await admin.initialize();
  } catch (error) {
    throw unreachable(error as Error);
  }
  try {
    return await work(admin);
  } finally {
    await admin.destroy();
  }
}
