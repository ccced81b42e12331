/** A change to allowed origins: these origins (serialized), or everything. */
export type CorsInvalidation = { readonly origins: readonly string[] } | { readonly all: true };

/**
 * Carries invalidations from client-store writes to every CachingCorsPolicyService, in this process
 * (InProcessCorsInvalidationBus) or across app instances (RedisCorsInvalidationBus from 'nest-identity-cors/redis').
 */
export interface ICorsInvalidationBus {
  /**
   * False while invalidations from other instances may be missed (e.g. Redis disconnected); caches then
   * refuse to answer (fail closed) and, once it is true again, drop everything they hold.
   */
  readonly connected: boolean;
  /** Delivers the change to this process's listeners at once, then to other instances; rejects if they could not be told. */
  publish(change: CorsInvalidation): Promise<void>;
  /** Returns the function that unsubscribes. */
  subscribe(listener: (change: CorsInvalidation) => void): () => void;
}
export const ICorsInvalidationBus = Symbol('ICorsInvalidationBus');
