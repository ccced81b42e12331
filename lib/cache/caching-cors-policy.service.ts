import { type OnModuleDestroy } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { isPromiseLike, type MaybePromise } from '../core/maybe-promise.js';
import { normalizeOrigin } from '../core/origin.js';
import { withTimeout } from '../core/with-timeout.js';
import type { ICorsPolicyService } from '../identity/cors-policy-service.interface.js';
import type { CorsInvalidation, ICorsInvalidationBus } from './cors-invalidation-bus.interface.js';
import { defaultCorsInvalidationBus } from './in-process-invalidation.bus.js';

export interface CachingCorsPolicyServiceOptions {
  /** How long an allowed (and, by default, a denied) answer is kept, in ms. Default 15 minutes, as IdentityServer. */
  ttl?: number;
  /** How long a denied answer is kept, in ms. Default: `ttl`. */
  deniedTtl?: number;
  /** Most origins kept; the least recently used go first, so distinct attacker origins cannot grow memory. Default 10,000. */
  max?: number;
  /** Longest one call to the wrapped service may take, in ms, before it counts as failed. Default 5000. */
  timeout?: number;
  /** Where store writes announce changed origins. Default: the process-wide in-process bus. */
  bus?: ICorsInvalidationBus;
}

export const DEFAULT_CORS_CACHE_TTL = 15 * 60_000;
export const DEFAULT_CORS_CACHE_MAX = 10_000;
const DEFAULT_TIMEOUT = 5000;

/** Thrown while the invalidation bus is disconnected: cached answers may be stale, so none is given (fail closed). */
export class CorsCacheUnavailableError extends Error {
  constructor() {
    super('the CORS invalidation bus is disconnected, so cached CORS decisions may be stale; origins are denied until it reconnects');
    this.name = 'CorsCacheUnavailableError';
  }
}

/**
 * Caches the allowed and denied answers of any ICorsPolicyService per origin (IdentityServer's
 * CachingCorsPolicyService), bounded in entries, with one call to the wrapped service however many
 * requests for an uncached origin arrive at once. Failures are not cached: they reach the caller,
 * which denies and logs. Store writes invalidate through the bus.
 */
export class CachingCorsPolicyService implements ICorsPolicyService, OnModuleDestroy {
  private readonly cache: LRUCache<string, boolean>;
  private readonly bus: ICorsInvalidationBus;
  private readonly unsubscribe: () => void;

  constructor(
    readonly inner: ICorsPolicyService,
    options: CachingCorsPolicyServiceOptions = {},
  ) {
    const ttl = checkedMs(options.ttl, 'ttl', DEFAULT_CORS_CACHE_TTL);
    const deniedTtl = checkedMs(options.deniedTtl, 'deniedTtl', ttl);
    const timeout = checkedMs(options.timeout, 'timeout', DEFAULT_TIMEOUT);
    const max = options.max ?? DEFAULT_CORS_CACHE_MAX;
    if (!Number.isInteger(max) || max < 1) {
      throw new TypeError(`CachingCorsPolicyService: max must be a whole number of entries ≥ 1 (got ${String(max)}): use e.g. ${DEFAULT_CORS_CACHE_MAX}`);
    }
    this.cache = new LRUCache<string, boolean>({
      max,
      ttl,
      // How stale lru-cache's clock may be: 1 % of the shorter TTL, at most a second. Its default (1 ms)
      // starts a timer every millisecond under load, for precision a 15-minute TTL does not need.
      ttlResolution: Math.max(1, Math.min(1000, Math.floor(Math.min(ttl, deniedTtl) / 100))),
      // An invalidation during a query drops that query's answer instead of caching it; callers already waiting still get it.
      ignoreFetchAbort: true,
      fetchMethod: async (origin, _stale, { options: entry }) => {
        const answer = this.inner.isOriginAllowed(origin);
        const allowed = isPromiseLike(answer) ? await withTimeout(answer, timeout, `${this.inner.constructor.name}.isOriginAllowed('${origin}')`) : answer;
        entry.ttl = allowed ? ttl : deniedTtl;
        return allowed;
      },
    });
    this.bus = options.bus ?? defaultCorsInvalidationBus;
    this.unsubscribe = this.bus.subscribe((change) => this.apply(change));
  }

  /**
   * Answers a cache hit at once, so a warm cache costs the hot path what an in-memory service costs; a
   * miss returns the (shared) query's Promise. Rejects while the bus is down.
   */
  isOriginAllowed(origin: string): MaybePromise<boolean> {
    if (!this.bus.connected) return Promise.reject(new CorsCacheUnavailableError());
    const cached = this.cache.get(origin);
    if (cached !== undefined) return cached;
    return this.cache.fetch(origin).then((allowed) => allowed === true);
  }

  /** Forgets one origin here and, through the bus, in every instance. */
  invalidate(origin: string): Promise<void> {
    return this.invalidateOrigins([origin]);
  }

  /** Forgets these origins (e.g. one client's allowedCorsOrigins) here and in every instance. */
  invalidateOrigins(origins: Iterable<string>): Promise<void> {
    return this.bus.publish({ origins: [...origins].map(canonical) });
  }

  /** Forgets everything here and in every instance. */
  invalidateAll(): Promise<void> {
    return this.bus.publish({ all: true });
  }

  /** Origins currently held (answers, and queries in flight). */
  get size(): number {
    return this.cache.size;
  }

  /** Stops listening to the bus (Nest calls it on shutdown when the service is a provider). */
  onModuleDestroy(): void {
    this.unsubscribe();
  }

  private apply(change: CorsInvalidation): void {
    if ('all' in change) this.cache.clear();
    else for (const origin of change.origins) this.cache.delete(origin);
  }
}

/** Cached keys are serialized origins; a configured spelling ('HTTPS://App.Example') is mapped to the same key. */
function canonical(origin: string): string {
  try {
    return normalizeOrigin(origin);
  } catch {
    return origin;
  }
}

function checkedMs(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`CachingCorsPolicyService: ${name} must be a whole number of milliseconds ≥ 1 (got ${String(value)}): use e.g. ${15 * 60_000} for 15 minutes`);
  }
  return value;
}
