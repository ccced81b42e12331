import { isOriginPattern, normalizeOrigin, NULL_ORIGIN, OriginPattern, OriginPatternSet, parseRequestOrigin } from './origin.js';

/** `*` in origins, methods or headers means "any", as in ASP.NET Core. */
export const ANY = '*';

/** Decides whether an origin (already a valid serialized origin) is allowed; may be async. */
export type IsOriginAllowed = (origin: string) => boolean | Promise<boolean>;

export interface CorsPolicyInit {
  /** Exact origins, subdomain patterns (`https://*.example.com`), or `'*'` for any origin. */
  origins?: Iterable<string>;
  /** Methods, or `'*'` for any. */
  methods?: Iterable<string>;
  /** Request headers the browser may send, or `'*'` for any. */
  headers?: Iterable<string>;
  /** Response headers the browser's script may read. */
  exposedHeaders?: Iterable<string>;
  supportsCredentials?: boolean;
  /** Seconds a browser may cache the preflight answer (`Access-Control-Max-Age`). */
  preflightMaxAge?: number;
  /** Replaces the list-based origin check, as ASP.NET Core's `SetIsOriginAllowed` does. */
  isOriginAllowed?: IsOriginAllowed;
}

export class CorsPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorsPolicyError';
  }
}

/** An RFC 9110 token: what a method or header name must be. */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function tokens(kind: string, values: Iterable<string> | undefined): string[] {
  const result: string[] = [];
  for (const value of values ?? []) {
    if (typeof value !== 'string' || !TOKEN.test(value)) {
      throw new CorsPolicyError(`${typeof value === 'string' ? `'${value}'` : String(value)} is not a valid ${kind}: use an HTTP token such as ${kind === 'method' ? "'GET'" : "'Content-Type'"}`);
    }
    if (!result.some((existing) => existing.toLowerCase() === value.toLowerCase())) result.push(value);
  }
  return result;
}

/** `['*']` when the list contains `*` (any), else the validated tokens. */
function anyOrTokens(kind: string, values: Iterable<string> | undefined): string[] {
  const list = Array.from(values ?? []);
  return list.includes(ANY) ? [ANY] : tokens(kind, list);
}

/**
 * A CORS policy is plain data, as in ASP.NET Core: which origins, methods and headers are allowed,
 * which headers are exposed, whether credentials are supported, and how long a preflight may be cached.
 * It is validated when constructed; evaluation lives in CorsService.
 */
export class CorsPolicy {
  /** Normalized exact origins, subdomain patterns, or `'*'`. */
  readonly origins: readonly string[];
  readonly methods: readonly string[];
  readonly headers: readonly string[];
  readonly exposedHeaders: readonly string[];
  readonly supportsCredentials: boolean;
  readonly preflightMaxAge?: number;

  private readonly exactOrigins: ReadonlySet<string>;
  private readonly patterns: OriginPatternSet;
  private readonly customIsOriginAllowed?: IsOriginAllowed;
  // Read on every request: computed once here rather than by scanning the lists each time.
  private readonly anyOrigin: boolean;
  private readonly anyMethod: boolean;
  private readonly anyHeader: boolean;

  constructor(init: CorsPolicyInit = {}) {
    const origins = new Set<string>();
    const exact = new Set<string>();
    const patterns: OriginPattern[] = [];
    for (const value of init.origins ?? []) {
      if (value === ANY) {
        origins.add(ANY);
      } else if (isOriginPattern(value)) {
        const pattern = OriginPattern.parse(value);
        origins.add(pattern.pattern);
        patterns.push(pattern);
      } else {
        const origin = normalizeOrigin(value);
        origins.add(origin);
        exact.add(origin);
      }
    }
    this.origins = Object.freeze([...origins]);
    this.exactOrigins = exact;
    this.patterns = new OriginPatternSet(patterns);
    this.methods = Object.freeze(anyOrTokens('method', init.methods));
    this.headers = Object.freeze(anyOrTokens('header name', init.headers));
    this.exposedHeaders = Object.freeze(tokens('header name', init.exposedHeaders));
    this.supportsCredentials = init.supportsCredentials === true;
    if (init.preflightMaxAge !== undefined) {
      const age = init.preflightMaxAge;
      if (typeof age !== 'number' || !Number.isInteger(age) || age < 0) {
        throw new CorsPolicyError(`preflightMaxAge ${String(age)} is not a whole number of seconds ≥ 0: use e.g. 600`);
      }
      this.preflightMaxAge = age;
    }
    if (init.isOriginAllowed !== undefined && typeof init.isOriginAllowed !== 'function') {
      throw new CorsPolicyError('isOriginAllowed must be a function (origin) => boolean | Promise<boolean>');
    }
    this.customIsOriginAllowed = init.isOriginAllowed;
    this.anyOrigin = origins.has(ANY);
    this.anyMethod = this.methods.includes(ANY);
    this.anyHeader = this.headers.includes(ANY);
    if (this.allowAnyOrigin && this.supportsCredentials) {
      throw new CorsPolicyError(
        'A policy cannot allow any origin and credentials at once (the CORS protocol forbids it, and reflecting every origin with credentials would let any site act as the user): list the origins instead of allowAnyOrigin(), or call disallowCredentials().',
      );
    }
    Object.freeze(this);
  }

  get allowAnyOrigin(): boolean {
    return this.anyOrigin;
  }

  get allowAnyMethod(): boolean {
    return this.anyMethod;
  }

  get allowAnyHeader(): boolean {
    return this.anyHeader;
  }

  /** True when origins are decided by the listed origins and patterns, not a custom predicate. */
  get isDefaultIsOriginAllowed(): boolean {
    return this.customIsOriginAllowed === undefined;
  }

  /**
   * Whether `origin` is allowed. Anything that is not a serialized origin is refused before an
   * any-origin rule, a pattern or a predicate sees it (RULES 3); `null` is allowed only when listed
   * as `'null'` (RULES 2).
   */
  isOriginAllowed(origin: string): boolean | Promise<boolean> {
    if (origin === NULL_ORIGIN) return this.exactOrigins.has(NULL_ORIGIN);
    // Listed origins are serialized already, so an exact hit needs no further validation.
    if (this.customIsOriginAllowed === undefined && this.exactOrigins.has(origin)) return true;
    if (parseRequestOrigin(origin) === undefined) return false;
    if (this.allowAnyOrigin) return true;
    if (this.customIsOriginAllowed) return this.customIsOriginAllowed(origin);
    return this.patterns.matches(origin);
  }
}
