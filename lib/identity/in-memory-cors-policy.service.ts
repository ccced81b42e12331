import { Logger, type LoggerService } from '@nestjs/common';
import { parseRequestOrigin } from '../core/origin.js';
import { declareSyncTwin } from '../core/sync-twin.js';
import type { CorsClient } from './cors-client.interface.js';
import type { ICorsPolicyService } from './cors-policy-service.interface.js';
import { InMemoryClientStore } from './in-memory-client.store.js';

/** Allows an origin listed by any enabled client of an in-memory store (IdentityServer's InMemoryCorsPolicyService, indexed). */
export class InMemoryCorsPolicyService implements ICorsPolicyService {
  readonly store: InMemoryClientStore;

  constructor(
    clients: InMemoryClientStore | Iterable<CorsClient>,
    private readonly logger: LoggerService = new Logger(InMemoryCorsPolicyService.name),
  ) {
    this.store = clients instanceof InMemoryClientStore ? clients : new InMemoryClientStore(clients);
  }

  isOriginAllowed(origin: string): Promise<boolean> {
    return Promise.resolve(this.decide(origin));
  }

  /**
   * isOriginAllowed without the Promise: the index is in memory. Logs nothing per decision: the
   * middleware logs each denial once, rate-limited, with its reason (RULES 17).
   */
  decide(origin: string): boolean {
    const serialized = parseRequestOrigin(origin);
    return serialized !== undefined && this.store.isOriginAllowed(serialized);
  }
}
declareSyncTwin(InMemoryCorsPolicyService.prototype.isOriginAllowed, 'decide');
