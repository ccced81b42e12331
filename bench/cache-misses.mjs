// How many database queries 100 concurrent decisions for one uncached origin cause through the cache
// (goal: 1). `node bench/cache-misses.mjs` after `npm run build`; SQLite (sql.js) unless DATABASE_URL is set.
// Prints a Markdown paragraph.
import { Logger } from '@nestjs/common';
import { CachingCorsPolicyService } from '../dist/index.js';
import { CORS_TYPEORM_ENTITIES, TypeOrmClientStore, TypeOrmCorsPolicyService } from '../dist/store/typeorm/index.js';
import { DataSource } from 'typeorm';
import { ALLOWED_ORIGIN, CLIENT_ORIGINS, DENIED_ORIGIN } from './fixtures.mjs';

const CONCURRENT = 100;
// The services log their debug lines through Nest's Logger, which writes to stdout: this script's output is Markdown.
Logger.overrideLogger(['error', 'warn']);

/** A TypeORM logger that counts the queries it is told about. */
const counter = {
  queries: 0,
  logQuery() {
    this.queries++;
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
};

const url = process.env.DATABASE_URL;
const ds = new DataSource({
  ...(url ? { type: 'postgres', url } : { type: 'sqljs' }),
  entities: [...CORS_TYPEORM_ENTITIES],
  synchronize: true,
  logger: counter,
});
await ds.initialize();
try {
  const store = new TypeOrmClientStore(ds);
  for (const [i, origin] of CLIENT_ORIGINS.entries()) await store.upsert({ clientId: `bench-client-${i}`, allowedCorsOrigins: [origin], enabled: true });
  const service = new CachingCorsPolicyService(new TypeOrmCorsPolicyService(ds), { ttl: 15 * 60_000 });

  const lines = [`## Database store behind the cache (${url ? 'PostgreSQL' : 'SQLite via sql.js'})`, ''];
  for (const [label, origin, expected] of [
    ['allowed', ALLOWED_ORIGIN, true],
    ['denied', DENIED_ORIGIN, false],
  ]) {
    counter.queries = 0;
    const answers = await Promise.all(Array.from({ length: CONCURRENT }, () => service.isOriginAllowed(origin)));
    const misses = counter.queries;
    counter.queries = 0;
    const again = await service.isOriginAllowed(origin);
    const wrong = answers.filter((answer) => answer !== expected).length;
    lines.push(
      `- ${CONCURRENT} concurrent decisions for one uncached ${label} origin: ${misses} database quer${misses === 1 ? 'y' : 'ies'} (goal: 1)` +
        `${wrong ? `, ${wrong} WRONG answers` : ''}; the next decision: ${counter.queries} (answer ${again}).`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await ds.destroy();
}
