import type { DataSource, EntityManager } from 'typeorm';
import type { CorsInvalidation, ICorsInvalidationBus } from '../../cache/cors-invalidation-bus.interface.js';
import { defaultCorsInvalidationBus } from '../../cache/in-process-invalidation.bus.js';
import { InvalidOriginError, normalizeOrigin } from '../../core/origin.js';
import { type CorsClient, normalizeClient } from '../../identity/cors-client.interface.js';
import { CorsClientEntity, CorsClientOriginEntity, MAX_CLIENT_ID_LENGTH } from './cors-client.entity.js';

export interface TypeOrmClientStoreOptions {
  /** Where writes announce the origins whose answer changed. Default: the process-wide in-process bus. */
  bus?: ICorsInvalidationBus;
}

/** What a client allows: its origins while enabled, nothing while disabled. */
type Allowed = ReadonlySet<string>;

/**
 * Clients and their allowed CORS origins in a TypeORM database. Writes validate and normalize
 * origins as the in-memory store does, run in a transaction, and then publish the origins whose
 * answer changed, so every CachingCorsPolicyService (in every instance, with a Redis bus) forgets them.
 */
export class TypeOrmClientStore {
  private readonly bus: ICorsInvalidationBus;

  constructor(
    private readonly dataSource: DataSource,
    options: TypeOrmClientStoreOptions = {},
  ) {
    this.bus = options.bus ?? defaultCorsInvalidationBus;
  }

  async findClientById(clientId: string): Promise<Required<CorsClient> | undefined> {
    const row = await this.dataSource.getRepository(CorsClientEntity).findOne({ where: { clientId }, relations: { origins: true } });
    if (!row) return undefined;
    return { clientId: row.clientId, enabled: row.enabled, allowedCorsOrigins: (row.origins ?? []).map((o) => o.origin).sort() };
  }

  /** Adds the client or replaces its `enabled` flag and origins; throws InvalidOriginError naming every bad origin. */
  async upsert(client: CorsClient): Promise<void> {
    const next = normalizeClient(client);
    if (next.clientId.length > MAX_CLIENT_ID_LENGTH) {
      throw new TypeError(`clientId '${next.clientId.slice(0, 40)}…' is ${next.clientId.length} characters long: the cors_clients.clientId column holds at most ${MAX_CLIENT_ID_LENGTH}`);
    }
    await this.write(next.clientId, async (manager, row) => {
      const target = row ?? (await manager.save(manager.create(CorsClientEntity, { clientId: next.clientId, enabled: next.enabled })));
      if (row && row.enabled !== next.enabled) await manager.update(CorsClientEntity, row.id, { enabled: next.enabled });
      const current = row ? await originsOf(manager, row) : new Set<string>();
      const removed = [...current].filter((origin) => !next.allowedCorsOrigins.includes(origin));
      const added = next.allowedCorsOrigins.filter((origin) => !current.has(origin));
      if (removed.length > 0) await deleteOrigins(manager, target, removed);
      if (added.length > 0) await manager.insert(CorsClientOriginEntity, added.map((origin) => ({ client: { id: target.id }, origin })));
      return { before: allowedBy(row?.enabled, current), after: allowedBy(next.enabled, next.allowedCorsOrigins) };
    });
  }

  /** Deletes the client and its origins; false if there was none. */
  async remove(clientId: string): Promise<boolean> {
    let found = false;
    await this.write(clientId, async (manager, row) => {
      if (!row) return { before: new Set(), after: new Set() };
      found = true;
      const before = allowedBy(row.enabled, await originsOf(manager, row));
      await manager.createQueryBuilder().delete().from(CorsClientOriginEntity).where('client_id = :id', { id: row.id }).execute();
      await manager.delete(CorsClientEntity, row.id);
      return { before, after: new Set() };
    });
    return found;
  }

  /** Adds one origin to an existing client (nothing if it is already there). */
  async addOrigin(clientId: string, origin: string): Promise<void> {
    const normalized = checkedOrigin(clientId, origin);
    await this.write(clientId, async (manager, row) => {
      const existing = mustExist(clientId, row);
      const current = await originsOf(manager, existing);
      if (!current.has(normalized)) await manager.insert(CorsClientOriginEntity, { client: { id: existing.id }, origin: normalized });
      return { before: allowedBy(existing.enabled, current), after: allowedBy(existing.enabled, [...current, normalized]) };
    });
  }

  /** Removes one origin from a client; false if the client did not list it. */
  async removeOrigin(clientId: string, origin: string): Promise<boolean> {
    const normalized = checkedOrigin(clientId, origin);
    let found = false;
    await this.write(clientId, async (manager, row) => {
      const existing = mustExist(clientId, row);
      const current = await originsOf(manager, existing);
      found = current.has(normalized);
      if (found) await deleteOrigins(manager, existing, [normalized]);
      const after = [...current].filter((o) => o !== normalized);
      return { before: allowedBy(existing.enabled, current), after: allowedBy(existing.enabled, after) };
    });
    return found;
  }

  /** Enables or disables an existing client: a disabled client's origins are not allowed. */
  async setEnabled(clientId: string, enabled: boolean): Promise<void> {
    if (typeof enabled !== 'boolean') throw new TypeError(`client '${clientId}': enabled must be true or false (got ${JSON.stringify(enabled)})`);
    await this.write(clientId, async (manager, row) => {
      const existing = mustExist(clientId, row);
      const current = await originsOf(manager, existing);
      if (existing.enabled !== enabled) await manager.update(CorsClientEntity, existing.id, { enabled });
      return { before: allowedBy(existing.enabled, current), after: allowedBy(enabled, current) };
    });
  }

  /** Makes every cache forget this client's origins (after changing its rows outside this store, for instance). */
  async invalidateClient(clientId: string): Promise<void> {
    const client = await this.findClientById(clientId);
    if (client) await this.bus.publish({ origins: client.allowedCorsOrigins });
  }

  /**
   * Runs `change` in a transaction on the client's row (locked where the database supports it, so
   * concurrent writes to one client see each other), then publishes the origins whose answer changed.
   */
  private async write(clientId: string, change: (manager: EntityManager, row: CorsClientEntity | null) => Promise<{ before: Allowed; after: Allowed }>): Promise<void> {
    const { before, after } = await oneAtATime(this.dataSource, () =>
      this.dataSource.transaction(async (manager) => {
        const row = await manager.findOne(CorsClientEntity, { where: { clientId }, ...(supportsRowLocks(this.dataSource) ? { lock: { mode: 'pessimistic_write' } } : {}) });
        return change(manager, row);
      }),
    );
    const changed = [...new Set([...before, ...after])].filter((origin) => before.has(origin) !== after.has(origin));
    if (changed.length > 0) await this.publish({ origins: changed }, clientId);
  }

  private async publish(change: CorsInvalidation, clientId: string): Promise<void> {
    try {
      await this.bus.publish(change);
    } catch (error) {
      throw new Error(
        `client '${clientId}' was saved, but other instances could not be told (${error instanceof Error ? error.message : String(error)}): their caches keep the old answer until it expires`,
        { cause: error },
      );
    }
  }
}

async function originsOf(manager: EntityManager, client: CorsClientEntity): Promise<Set<string>> {
  const rows = await manager.find(CorsClientOriginEntity, { where: { client: { id: client.id } }, select: { id: true, origin: true } });
  return new Set(rows.map((row) => row.origin));
}

async function deleteOrigins(manager: EntityManager, client: CorsClientEntity, origins: string[]): Promise<void> {
  await manager
    .createQueryBuilder()
    .delete()
    .from(CorsClientOriginEntity)
    .where('client_id = :id', { id: client.id })
    .andWhere('origin IN (:...origins)', { origins })
    .execute();
}

function allowedBy(enabled: boolean | undefined, origins: Iterable<string>): Allowed {
  return enabled ? new Set(origins) : new Set();
}

function mustExist(clientId: string, row: CorsClientEntity | null): CorsClientEntity {
  if (!row) throw new Error(`client '${clientId}' does not exist: create it with upsert({ clientId: '${clientId}', allowedCorsOrigins: [...] }) first`);
  return row;
}

function checkedOrigin(clientId: string, origin: string): string {
  try {
    return normalizeOrigin(origin);
  } catch (error) {
    throw new InvalidOriginError(origin, `client '${clientId}': ${(error as Error).message}`);
  }
}

// SQLite drivers run every query on one connection, where transactions cannot overlap: such a DataSource's writes are queued.
const SINGLE_CONNECTION_DRIVERS = ['sqljs', 'sqlite', 'better-sqlite3', 'capacitor', 'cordova', 'expo', 'nativescript', 'react-native'];
const writeQueues = new WeakMap<DataSource, Promise<unknown>>();

function oneAtATime<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  if (!SINGLE_CONNECTION_DRIVERS.includes(dataSource.options.type)) return work();
  const next = (writeQueues.get(dataSource) ?? Promise.resolve()).then(work, work);
  writeQueues.set(dataSource, next.catch(() => undefined));
  return next;
}

function supportsRowLocks(dataSource: DataSource): boolean {
  return ['postgres', 'mysql', 'mariadb', 'cockroachdb', 'oracle', 'mssql'].includes(dataSource.options.type);
}
