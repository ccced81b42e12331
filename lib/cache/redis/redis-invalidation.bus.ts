import { randomUUID } from 'node:crypto';
import { Logger, type LoggerService, type OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import type { CorsInvalidation, ICorsInvalidationBus } from '../cors-invalidation-bus.interface.js';
import { InProcessCorsInvalidationBus } from '../in-process-invalidation.bus.js';

export interface RedisCorsInvalidationBusOptions {
  /** The pub/sub channel every instance of one app shares. Default `'nest-identity-cors:invalidate'`. */
  channel?: string;
  logger?: LoggerService;
}

export const DEFAULT_INVALIDATION_CHANNEL = 'nest-identity-cors:invalidate';

interface WireMessage {
  from: string;
  origins?: string[];
  all?: true;
}

/**
 * Carries invalidations between app instances over Redis pub/sub (ioredis): one connection publishes,
 * one subscribes. A change is delivered in this process at once, then published; other instances drop
 * those origins from their caches. While the subscription is down, `connected` is false (caches deny),
 * and on every (re)subscription everything is invalidated, since messages may have been missed.
 */
export class RedisCorsInvalidationBus implements ICorsInvalidationBus, OnApplicationShutdown {
  private readonly local = new InProcessCorsInvalidationBus();
  private readonly id = randomUUID();
  private readonly channel: string;
  private readonly log: LoggerService;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private subscribed = false;
  private closing = false;
  private firstSubscription: Promise<void>;
  private downLogged = false;

  /** `connection`: a `redis://` URL (e.g. `process.env.REDIS_URL`) or ioredis options. */
  constructor(connection: string | RedisOptions, options: RedisCorsInvalidationBusOptions = {}) {
    this.channel = options.channel ?? DEFAULT_INVALIDATION_CHANNEL;
    if (typeof this.channel !== 'string' || this.channel === '') {
      throw new TypeError(`RedisCorsInvalidationBus: channel must be a non-empty string (got ${JSON.stringify(options.channel)}): use e.g. '${DEFAULT_INVALIDATION_CHANNEL}'`);
    }
    this.log = options.logger ?? new Logger(RedisCorsInvalidationBus.name);
    const base: RedisOptions = {
      // Retry forever, at most every second, so the bus recovers soon after Redis does.
      retryStrategy: (times) => Math.min(times * 100, 1000),
      // Fail a publish at once while disconnected instead of queueing it for later.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    };
    this.publisher = typeof connection === 'string' ? new Redis(connection, base) : new Redis({ ...connection, ...base });
    // The subscription is renewed by hand on each 'ready', so that the cache is flushed only once it is in place.
    this.subscriber = this.publisher.duplicate({ autoResubscribe: false, enableOfflineQueue: true });

    for (const [name, client] of [['publisher', this.publisher], ['subscriber', this.subscriber]] as const) {
      client.on('error', (error: Error) => this.down(`${name}: ${error.message}`));
    }
    this.subscriber.on('close', () => this.down('connection closed'));
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
    let resolveFirst!: () => void;
    this.firstSubscription = new Promise((resolve) => (resolveFirst = resolve));
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(this.channel).then(
        () => {
          this.subscribed = true;
          if (this.downLogged) this.log.log(`Redis invalidation bus reconnected to channel '${this.channel}'; CORS caches were cleared`);
          this.downLogged = false;
          // Messages published while unsubscribed are lost: forget everything once.
          this.local.deliver({ all: true });
          resolveFirst();
        },
        (error: Error) => this.down(`subscribe failed: ${error.message}`),
      );
    });
  }

  get connected(): boolean {
    return this.subscribed;
  }

  /** Resolves once subscribed (at startup, CORS decisions through the cache are denied until then). */
  ready(): Promise<void> {
    return this.firstSubscription;
  }

  subscribe(listener: (change: CorsInvalidation) => void): () => void {
    return this.local.subscribe(listener);
  }

  async publish(change: CorsInvalidation): Promise<void> {
    this.local.deliver(change);
    const message: WireMessage = 'all' in change ? { from: this.id, all: true } : { from: this.id, origins: [...change.origins] };
    await this.publisher.publish(this.channel, JSON.stringify(message));
  }

  async close(): Promise<void> {
    this.closing = true;
    this.subscribed = false;
    await Promise.allSettled([this.subscriber.quit(), this.publisher.quit()]);
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private receive(raw: string): void {
    let message: WireMessage;
    try {
      message = JSON.parse(raw) as WireMessage;
    } catch {
      message = { from: '' };
    }
    if (message.from === this.id) return; // already delivered here by publish()
    if (message.all === true) return this.local.deliver({ all: true });
    if (Array.isArray(message.origins) && message.origins.every((origin) => typeof origin === 'string')) {
      return this.local.deliver({ origins: message.origins });
    }
    // Not ours to understand, but something changed: forgetting everything is the safe answer.
    this.log.warn(`Unreadable message on CORS invalidation channel '${this.channel}': ${raw.slice(0, 200)}; clearing CORS caches`);
    this.local.deliver({ all: true });
  }

  private down(reason: string): void {
    if (this.closing) return;
    this.subscribed = false;
    if (this.downLogged) return;
    this.downLogged = true;
    this.log.error(`Redis invalidation bus is down (${reason}): CORS decisions through the cache are denied until it reconnects`);
  }
}
