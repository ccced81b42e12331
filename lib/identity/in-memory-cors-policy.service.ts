import { Logger, type LoggerService } from '@nestjs/common';
import { parseRequestOrigin } from '../core/origin.js';
import type { CorsClient } from './cors-client.interface.js';
import type { MaybePromise } from '../core/maybe-promise.js';
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

  /**
   * Answers at once: the index is in memory. (Declared as the contract, so a subclass may answer in a Promise.)
   * Logs nothing per decision: the handler logs each denial once, rate-limited, with its reason (RULES 21).
   */
  isOriginAllowed(origin: string): MaybePromise<boolean> {
    const serialized = parseRequestOrigin(origin);
    return serialized !== undefined && this.store.isOriginAllowed(serialized);
  }
}
