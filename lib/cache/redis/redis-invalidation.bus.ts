/**
 * The Redis invalidation bus. Over 200 lines because it is one state machine over two connections (publisher and
 * subscriber), each with its own readiness, heartbeat and handshake watchdog; `connected` and the cache clearing
 * depend on both, so they stay in one place (RULES 17).
 */
import { randomUUID } from 'node:crypto';
import { Logger, type LoggerService, type OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import type { CorsInvalidation, ICorsInvalidationBus } from '../cors-invalidation-bus.interface.js';
import { InProcessCorsInvalidationBus } from '../in-process-invalidation.bus.js';

export interface RedisCorsInvalidationBusOptions {
  /** The pub/sub channel every instance of one app shares. Default `'nest-identity-cors:invalidate'`. */
  channel?: string;
  /** How often each of the two connections is sent a PING, in ms. Default 2000. */
  heartbeatInterval?: number;
  /**
   * How long a PING (or a connection's handshake, or its SUBSCRIBE) may go unanswered, in ms, before that
   * connection is taken for dead: the bus is down, and the connection is dropped and reopened. Default 3000.
   */
  heartbeatTimeout?: number;
  logger?: LoggerService;
}

export const DEFAULT_INVALIDATION_CHANNEL = 'nest-identity-cors:invalidate';
const DEFAULT_HEARTBEAT_INTERVAL = 2000;
const DEFAULT_HEARTBEAT_TIMEOUT = 3000;
/** Prefix of the connections' names (CLIENT SETNAME), so operators tell them apart in CLIENT LIST. */
const DEFAULT_CONNECTION_NAME = 'nest-identity-cors';

interface WireMessage {
  from: string;
  origins?: string[];
  all?: true;
}

/** What the bus knows of one of its two connections. */
interface Link {
  readonly role: 'publisher' | 'subscriber';
  readonly client: Redis;
  /** Publisher: ready for commands. Subscriber: subscribed to the channel on its current socket. */
  usable: boolean;
  /** Bumped on every 'ready' and 'close', so that a reply on an earlier socket is not taken for one on this socket. */
  epoch: number;
  /** The last error ioredis reported since the link was last usable: the reason the down line gives. */
  lastError?: string;
  /** Armed while the server owes this socket an answer (handshake, SUBSCRIBE or PING); destroys the socket if none comes. */
  watchdog?: NodeJS.Timeout;
}

/**
 * Carries invalidations between app instances over Redis pub/sub (ioredis): one connection publishes,
 * one subscribes. A change is delivered in this process at once, then published; other instances drop
 * those origins from their caches.
 *
 * `connected` is true exactly while the publisher is ready and the subscriber is subscribed to the channel
 * on its current socket; caches deny while it is false. Each connection is tracked on its own (ioredis
 * 'ready' and 'close'), so a drop of either, of both, or of one while the other reconnects, leaves the bus
 * down only until both are back. Whenever the subscriber's socket closed, messages may have been missed:
 * once subscribed again, everything is invalidated here before `connected` turns true. A socket that stays
 * open but carries nothing (a network partition) is invisible to ioredis, so each connection is sent a PING
 * every `heartbeatInterval`; one that does not answer within `heartbeatTimeout` is destroyed, which ioredis
 * treats as a drop and reconnects. A publish that fails rejects (its caller learns other instances were not
 * told), and once the publisher works again `{ all: true }` is published, so those instances catch up.
 *
 * Logging follows `connected`, not ioredis's events: one error line on the first drop since the bus was last
 * up (or since it was created: Redis unreachable at startup), naming the connection and the last error it
 * reported, and one line when it is up again, saying whether caches were cleared. Errors and failed attempts
 * while it is down add nothing; a drop that ioredis repairs at once is still one down line and one up line,
 * since decisions were denied meanwhile.
 */
export class RedisCorsInvalidationBus implements ICorsInvalidationBus, OnApplicationShutdown {
  private readonly local = new InProcessCorsInvalidationBus();
  private readonly id = randomUUID();
  private readonly channel: string;
  private readonly heartbeatTimeout: number;
  private readonly log: LoggerService;
  private readonly publisher: Link;
  private readonly subscriber: Link;
  private readonly heartbeat: NodeJS.Timeout;
  /** Messages may have been missed since the last flush: true until the first subscription, and after each subscriber drop. */
  private subscriptionInterrupted = true;
  /** A publish failed, so other instances missed a change: they are told to forget everything once the publisher works. */
  private owesOthersAll = false;
  private closing = false;
  private downLogged = false;
  private clearedSinceDown = false;
  private readonly firstConnection: Promise<void>;
  private resolveFirstConnection!: () => void;

  /** `connection`: a `redis://` URL (e.g. `process.env.REDIS_URL`) or ioredis options. */
  constructor(connection: string | RedisOptions, options: RedisCorsInvalidationBusOptions = {}) {
    this.channel = options.channel ?? DEFAULT_INVALIDATION_CHANNEL;
    if (typeof this.channel !== 'string' || this.channel === '') {
      throw new TypeError(`RedisCorsInvalidationBus: channel must be a non-empty string (got ${JSON.stringify(options.channel)}): use e.g. '${DEFAULT_INVALIDATION_CHANNEL}'`);
    }
    const heartbeatInterval = checkedMs(options.heartbeatInterval, 'heartbeatInterval', DEFAULT_HEARTBEAT_INTERVAL);
    this.heartbeatTimeout = checkedMs(options.heartbeatTimeout, 'heartbeatTimeout', DEFAULT_HEARTBEAT_TIMEOUT);
    this.log = options.logger ?? new Logger(RedisCorsInvalidationBus.name);
    const name = (typeof connection === 'string' ? undefined : connection.connectionName) ?? DEFAULT_CONNECTION_NAME;
    const base: RedisOptions = {
      // Retry forever, at most every second, so the bus recovers soon after Redis does.
      retryStrategy: (times) => Math.min(times * 100, 1000),
      // Fail a command at once while disconnected instead of queueing it for later.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectionName: `${name}:publisher`,
    };
    const publisher = typeof connection === 'string' ? new Redis(connection, base) : new Redis({ ...connection, ...base });
    // The subscription is renewed by hand on each 'ready', so that caches are flushed only once it is in place.
    const subscriber = publisher.duplicate({ connectionName: `${name}:subscriber`, autoResubscribe: false });
    this.publisher = { role: 'publisher', client: publisher, usable: false, epoch: 0 };
    this.subscriber = { role: 'subscriber', client: subscriber, usable: false, epoch: 0 };
    this.firstConnection = new Promise((resolve) => (this.resolveFirstConnection = resolve));

    for (const link of [this.publisher, this.subscriber]) {
      link.client.on('connect', () => this.watch(link, 'no answer to the connection handshake'));
      link.client.on('ready', () => this.onReady(link));
      link.client.on('error', (error: Error) => (link.lastError = error.message));
      link.client.on('close', () => this.onClose(link));
    }
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
    this.heartbeat = setInterval(() => {
      this.beat(this.publisher);
      this.beat(this.subscriber);
    }, heartbeatInterval).unref();
  }

  /**
   * True while the publisher is ready and the subscriber subscribed. A socket that went silent still counts
   * until the heartbeat finds it out (within heartbeatInterval + heartbeatTimeout); caches are cleared after.
   */
  get connected(): boolean {
    return !this.closing && this.publisher.usable && this.subscriber.usable;
  }

  /** Resolves once first connected (at startup, CORS decisions through the cache are denied until then). */
  ready(): Promise<void> {
    return this.firstConnection;
  }

  subscribe(listener: (change: CorsInvalidation) => void): () => void {
    return this.local.subscribe(listener);
  }

  async publish(change: CorsInvalidation): Promise<void> {
    this.local.deliver(change);
    const message: WireMessage = 'all' in change ? { from: this.id, all: true } : { from: this.id, origins: [...change.origins] };
    try {
      await this.publisher.client.publish(this.channel, JSON.stringify(message));
    } catch (error) {
      this.owesOthersAll = true;
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const link of [this.publisher, this.subscriber]) {
      this.unwatch(link);
      link.usable = false;
    }
    // QUIT lets publishes in flight finish; bounded, since a silent socket would never answer it.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([this.subscriber.client.quit(), this.publisher.client.quit()]),
      new Promise((resolve) => (timer = setTimeout(resolve, this.heartbeatTimeout))),
    ]);
    clearTimeout(timer);
    // Only where QUIT did not end it: on an ended client, disconnect() leaves a 2-second timer behind.
    for (const { client } of [this.subscriber, this.publisher]) if (client.status !== 'end') client.disconnect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private onReady(link: Link): void {
    if (this.closing) return;
    link.epoch++;
    link.lastError = undefined;
    if (link === this.publisher) {
      this.unwatch(link);
      link.usable = true;
      this.makeUpForFailedPublishes();
      return this.cameUp();
    }
    // A fresh connection is not subscribed to anything (autoResubscribe is off): subscribe, and wait for it.
    this.watch(link, 'no reply to SUBSCRIBE');
    const epoch = link.epoch;
    link.client.subscribe(this.channel).then(
      () => {
        if (epoch !== link.epoch || this.closing) return;
        this.unwatch(link);
        if (this.subscriptionInterrupted) {
          // Messages published while unsubscribed are lost: forget everything, before anyone reads the caches again.
          this.subscriptionInterrupted = false;
          this.clearedSinceDown = true;
          this.local.deliver({ all: true });
        }
        link.usable = true;
        this.cameUp();
      },
      (error: Error) => {
        if (epoch !== link.epoch || this.closing) return;
        // E.g. an ACL that forbids the channel: it becomes the down line's reason, and a fresh connection
        // retries at ioredis's reconnection pace.
        link.client.stream.destroy(new Error(`SUBSCRIBE failed: ${error.message}`));
      },
    );
  }

  private onClose(link: Link): void {
    this.unwatch(link);
    link.epoch++;
    link.usable = false;
    if (link === this.subscriber) this.subscriptionInterrupted = true;
    if (this.closing || this.downLogged) return;
    this.downLogged = true;
    this.clearedSinceDown = false;
    this.log.error(`Redis invalidation bus is down (${link.role}: ${link.lastError ?? 'connection closed'}): CORS decisions through the cache are denied until it reconnects`);
  }

  private cameUp(): void {
    if (!this.connected) return;
    this.resolveFirstConnection();
    if (!this.downLogged) return;
    this.downLogged = false;
    const caches = this.clearedSinceDown ? 'CORS caches were cleared, since invalidations may have been missed' : 'its subscription held, so CORS caches were kept';
    this.log.log(`Redis invalidation bus reconnected to channel '${this.channel}'; ${caches}`);
  }

  /**
   * The caller of a failed publish was told (it rejected), but other instances were not: publish `{ all: true }`
   * for them once the publisher works again, so their caches do not keep what changed until their TTL.
   */
  private makeUpForFailedPublishes(): void {
    if (!this.owesOthersAll) return;
    this.owesOthersAll = false;
    const message: WireMessage = { from: this.id, all: true };
    this.publisher.client.publish(this.channel, JSON.stringify(message)).catch(() => (this.owesOthersAll = true));
  }

  /** Sends a usable connection a PING, unless it already owes an answer. */
  private beat(link: Link): void {
    if (link === this.publisher && link.usable) this.makeUpForFailedPublishes(); // a publish may fail while the publisher looks usable
    if (!link.usable || link.watchdog) return;
    this.watch(link, 'no reply to PING');
    const epoch = link.epoch;
    const answered = () => {
      if (epoch === link.epoch) this.unwatch(link);
    };
    link.client.ping().then(answered, answered);
  }

  /** Unless the server answers on this socket within heartbeatTimeout (`unwatch`), destroys it, so that ioredis reconnects. */
  private watch(link: Link, what: string): void {
    this.unwatch(link);
    const stream = link.client.stream;
    link.watchdog = setTimeout(() => {
      link.watchdog = undefined;
      if (link.client.stream === stream && !stream.destroyed) stream.destroy(new Error(`${what} within ${this.heartbeatTimeout} ms`));
    }, this.heartbeatTimeout).unref();
  }

  private unwatch(link: Link): void {
    clearTimeout(link.watchdog);
    link.watchdog = undefined;
  }

  private receive(raw: string): void {
    let message: WireMessage;
    try {
      message = JSON.parse(raw) as WireMessage;
    } catch {
      message = { from: '' };
    }
    // Anyone who can publish on the channel may send `null`, a number or an array: read as unreadable, never thrown
    // (a throw here would escape ioredis's 'message' listener and end the process).
    if (typeof message !== 'object' || message === null) message = { from: '' };
    if (message.from === this.id) return; // already delivered here by publish()
    if (message.all === true) return this.local.deliver({ all: true });
    if (Array.isArray(message.origins) && message.origins.every((origin) => typeof origin === 'string')) {
      return this.local.deliver({ origins: message.origins });
    }
    // Not ours to understand, but something changed: forgetting everything is the safe answer.
    this.log.warn(`Unreadable message on CORS invalidation channel '${this.channel}': ${raw.slice(0, 200)}; clearing CORS caches`);
    this.local.deliver({ all: true });
  }
}

function checkedMs(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`RedisCorsInvalidationBus: ${name} must be a whole number of milliseconds ≥ 1 (got ${JSON.stringify(value)}): use e.g. ${fallback}`);
  }
  return value;
}
