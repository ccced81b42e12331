import { Logger, type LoggerService } from '@nestjs/common';
import { normalizeOrigin, parseRequestOrigin } from '../core/origin.js';
import type { MaybePromise } from '../core/maybe-promise.js';
import type { ICorsPolicyService } from './cors-policy-service.interface.js';

/** A Set of origins that validates and normalizes what is added (`add('HTTPS://Foo')` stores `https://foo`). */
export class OriginSet extends Set<string> {
  override add(origin: string): this {
    return super.add(normalizeOrigin(origin));
  }
}

export interface DefaultCorsPolicyServiceOptions {
  allowedOrigins?: Iterable<string>;
  allowAll?: boolean;
}

/**
 * A fixed allow-list, as IdentityServer's DefaultCorsPolicyService: denies everything unless
 * origins are added to `allowedOrigins` or `allowAll` is set (which logs a warning).
 */
export class DefaultCorsPolicyService implements ICorsPolicyService {
  private origins = new OriginSet();
  private allowAllOrigins = false;

  constructor(
    protected readonly logger: LoggerService = new Logger(DefaultCorsPolicyService.name),
    options: DefaultCorsPolicyServiceOptions = {},
  ) {
    this.allowedOrigins = options.allowedOrigins ?? [];
    this.allowAll = options.allowAll ?? false;
  }

  /** The allowed origins; `add` validates and normalizes. Assigning replaces the whole list. */
  get allowedOrigins(): OriginSet {
    return this.origins;
  }

  set allowedOrigins(origins: Iterable<string>) {
    const next = new OriginSet();
    for (const origin of origins) next.add(origin);
    this.origins = next;
  }

  get allowAll(): boolean {
    return this.allowAllOrigins;
  }

  set allowAll(value: boolean) {
    this.allowAllOrigins = value === true;
    if (this.allowAllOrigins) {
      this.logger.warn(
        'DefaultCorsPolicyService.allowAll is true: every origin may call the identity endpoints. Use with caution; prefer allowedOrigins or per-client allowedCorsOrigins.',
      );
    }
  }

  /**
   * Answers at once: the list is in memory. (Declared as the contract, so a subclass may answer in a Promise.)
   * Logs nothing per decision: the handler logs each denial once, rate-limited, with its reason (RULES 21).
   */
  isOriginAllowed(origin: string): MaybePromise<boolean> {
    const serialized = parseRequestOrigin(origin);
    if (serialized === undefined) return false;
    if (this.allowAllOrigins && serialized !== 'null') return true;
    return this.origins.has(serialized);
  }
}
