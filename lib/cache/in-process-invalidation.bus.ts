import { Logger } from '@nestjs/common';
import type { CorsInvalidation, ICorsInvalidationBus } from './cors-invalidation-bus.interface.js';

/** Delivers invalidations to listeners in this process only: enough for a single app instance. */
export class InProcessCorsInvalidationBus implements ICorsInvalidationBus {
  readonly connected = true;
  private readonly listeners = new Set<(change: CorsInvalidation) => void>();
  private readonly logger = new Logger(InProcessCorsInvalidationBus.name);

  publish(change: CorsInvalidation): Promise<void> {
    this.deliver(change);
    return Promise.resolve();
  }

  subscribe(listener: (change: CorsInvalidation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls every listener now; one that throws does not keep the others from being told. */
  deliver(change: CorsInvalidation): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error(`A CORS invalidation listener failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

/**
 * The bus stores and caches use when given none, so that in one process a store write reaches every
 * cache without any wiring. Give both a RedisCorsInvalidationBus to reach other instances too.
 */
export const defaultCorsInvalidationBus = new InProcessCorsInvalidationBus();
