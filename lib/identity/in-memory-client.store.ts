import { type CorsClient, normalizeClient } from './cors-client.interface.js';

/**
 * Clients kept in memory, with an index from origin to the number of enabled clients that list it,
 * so that a CORS decision costs one hash lookup whatever the number of clients.
 */
export class InMemoryClientStore {
  private readonly clients = new Map<string, Required<CorsClient>>();
  private readonly enabledOrigins = new Map<string, number>();

  constructor(clients: Iterable<CorsClient> = []) {
    for (const client of clients) {
      if (this.clients.has(client.clientId)) {
        throw new Error(`client '${client.clientId}' is configured twice: client ids must be unique`);
      }
      this.upsertClient(client);
    }
  }

  get size(): number {
    return this.clients.size;
  }

  findClientById(clientId: string): Required<CorsClient> | undefined {
    return this.clients.get(clientId);
  }

  /** Adds or replaces a client; its origins are validated and normalized first. */
  upsertClient(client: CorsClient): void {
    const normalized = normalizeClient(client);
    this.removeClient(normalized.clientId);
    this.clients.set(normalized.clientId, normalized);
    if (normalized.enabled) this.index(normalized.allowedCorsOrigins, +1);
  }

  removeClient(clientId: string): boolean {
    const existing = this.clients.get(clientId);
    if (!existing) return false;
    if (existing.enabled) this.index(existing.allowedCorsOrigins, -1);
    return this.clients.delete(clientId);
  }

  /** True if an enabled client lists exactly this (serialized) origin. */
  isOriginAllowed(origin: string): boolean {
    return this.enabledOrigins.has(origin);
  }

  private index(origins: readonly string[], delta: 1 | -1): void {
    for (const origin of origins) {
      const count = (this.enabledOrigins.get(origin) ?? 0) + delta;
      if (count > 0) this.enabledOrigins.set(origin, count);
      else this.enabledOrigins.delete(origin);
    }
  }
}
