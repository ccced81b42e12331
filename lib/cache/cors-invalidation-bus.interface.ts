/** A change to allowed origins: these origins (serialized), or everything. */
export type CorsInvalidation = { readonly origins: readonly string[] } | { readonly all: true };

/**
 * Carries invalidations from client-store writes to every CachingCorsPolicyService, in this process
 * (InProcessCorsInvalidationBus) or across app instances (RedisCorsInvalidationBus from 'nest-identity-cors/redis').
 */
export interface ICorsInvalidationBus {
  /**
   * False while this instance cannot both hear other instances and tell them (e.g. a Redis connection is
   * down); caches then refuse to answer (fail closed). Whenever invalidations may have been missed meanwhile,
   * the bus delivers `{ all: true }` before it turns true again, so caches drop everything they hold.
   */
  readonly connected: boolean;
  /** Delivers the change to this process's listeners at once, then to other instances; rejects if they could not be told. */
  publish(change: CorsInvalidation): Promise<void>;
  /** Returns the function that unsubscribes. */
  subscribe(listener: (change: CorsInvalidation) => void): () => void;
}
export const ICorsInvalidationBus = Symbol('ICorsInvalidationBus');
