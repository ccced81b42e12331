/**
 * CorsPolicy, the data a request is evaluated against, validated as it is built. Over 200 lines because every
 * refusal (any origin with credentials, 'null' or an origin-allowing predicate with credentials, '*' beside other
 * entries, bad max-ages and tokens) must name the value and a fix that is itself accepted: the messages are most of it.
 */
import { NULL_ORIGIN, parseRequestOrigin } from './origin.js';
import { OriginPattern, OriginPatternSet, parsePolicyOrigin } from './origin-pattern.js';
import { isPromiseLike } from './maybe-promise.js';

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

/** `['*']` when the list is `*` (any) alone, else the validated tokens. */
function anyOrTokens(kind: 'method' | 'header name', values: Iterable<string> | undefined): string[] {
  const list = Array.from(values ?? []);
  if (!list.includes(ANY)) return tokens(kind, list);
  if (list.some((value) => value !== ANY)) throw anyAmongOthers(kind === 'method' ? 'methods' : 'headers', list);
  return [ANY];
}

/**
 * `'*'` beside other entries: ASP.NET Core reads it as a literal there, so the intent is unclear.
 * The fix names the builder method and the CorsPolicyInit form.
 */
function anyAmongOthers(what: 'origins' | 'methods' | 'headers', list: readonly unknown[], credentials = false): CorsPolicyError {
  const others = list.filter((value) => value !== ANY).map((value) => (typeof value === 'string' ? `'${value}'` : String(value)));
  const method = { origins: 'allowAnyOrigin()', methods: 'allowAnyMethod()', headers: 'allowAnyHeader()' }[what];
  const removeStar = `remove '*' to allow only ${others.join(', ')}`;
  // With credentials, any origin is refused too (RULES 9): removing '*' is the only fix that is accepted.
  const fix = credentials ? `${removeStar} (a policy with credentials must list its origins)` : `use ${method} alone (${what}: ['*']) to allow any, or ${removeStar}`;
  return new CorsPolicyError(`'*' is listed among other ${what} (${others.join(', ')}), where it is ambiguous: ${fix}`);
}

/** Origins no real site uses (RFC 2606 `.invalid`): a predicate that allows them allows arbitrary origins. */
export const CANARY_ORIGINS: readonly string[] = ['https://cors-canary.invalid', 'http://cors-canary.invalid'];

function predicateAllowsCanary(origin: string): string {
  return `allows credentials with an isOriginAllowed predicate that allowed '${origin}', an origin no site uses, so it would let any site act as the user: make the predicate allow only your own origins (e.g. (origin) => origin.endsWith('.example.com')), list them with withOrigins(...), or call disallowCredentials()`;
}

/**
 * The problem with a max-age option (whole seconds ≥ 0), naming the value and a value that is accepted; undefined if fine.
 * Shared by the builder, CorsPolicyInit and the identity option preflightCacheDuration.
 */
export function maxAgeProblem(name: string, value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return undefined;
  const shown = typeof value === 'string' ? `'${value}'` : typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value);
  const numeric = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  const fix =
    typeof numeric === 'number' && Number.isFinite(numeric) && numeric >= 0 && numeric <= Number.MAX_SAFE_INTEGER
      ? `use ${Math.round(numeric)}${typeof value === 'string' ? ' (a number, not a string)' : ''}`
      : 'use 600 (ten minutes, say), or leave it out to send no Access-Control-Max-Age';
  return `${name} ${shown} is not a whole number of seconds ≥ 0: ${fix}`;
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
  /** `Access-Control-Expose-Headers` as written (joined once here, not per response); undefined when none. */
  readonly exposedHeadersValue?: string;
  /** `Access-Control-Allow-Methods` / `-Headers` of a preflight when the policy lists them (joined once); undefined for any or none. */
  readonly methodsValue?: string;
  readonly headersValue?: string;
  readonly supportsCredentials: boolean;
  readonly preflightMaxAge?: number;

  private readonly exactOrigins: ReadonlySet<string>;
  private readonly patterns: OriginPatternSet;
  private readonly customIsOriginAllowed?: IsOriginAllowed;
  /**
   * A credentialed policy whose predicate answers in a Promise: its answer about the canary origins, asked at the
   * module's startup probe or on first use, which every origin waits for until it is known (RULES 9). A policy made
   * outside the module's options (a host ICorsPolicyProvider's) is never probed at startup.
   */
  private readonly canary?: CanaryCheck;
  // Read on every request: computed once here rather than by scanning the lists each time.
  private readonly anyOrigin: boolean;
  private readonly anyMethod: boolean;
  private readonly anyHeader: boolean;

  constructor(init: CorsPolicyInit = {}) {
    const origins = new Set<string>();
    const exact = new Set<string>();
    const patterns: OriginPattern[] = [];
    const list = Array.from(init.origins ?? []);
    if (list.includes(ANY) && list.some((value) => value !== ANY)) throw anyAmongOthers('origins', list, init.supportsCredentials === true);
    for (const value of list) {
      if (value === ANY) {
        origins.add(ANY);
        continue;
      }
      const parsed = parsePolicyOrigin(value);
      if (parsed instanceof OriginPattern) {
        origins.add(parsed.pattern);
        patterns.push(parsed);
      } else {
        origins.add(parsed);
        exact.add(parsed);
      }
    }
    this.origins = Object.freeze([...origins]);
    this.exactOrigins = exact;
    this.patterns = new OriginPatternSet(patterns);
    this.methods = Object.freeze(anyOrTokens('method', init.methods));
    this.headers = Object.freeze(anyOrTokens('header name', init.headers));
    this.exposedHeaders = Object.freeze(tokens('header name', init.exposedHeaders));
    if (this.exposedHeaders.length > 0) this.exposedHeadersValue = this.exposedHeaders.join(',');
    // Joined once here rather than per preflight (each join is a string built per response).
    if (!this.allowAnyMethod && this.methods.length > 0) this.methodsValue = this.methods.join(',');
    if (!this.allowAnyHeader && this.headers.length > 0) this.headersValue = this.headers.join(',');
    this.supportsCredentials = init.supportsCredentials === true;
    if (init.preflightMaxAge !== undefined) {
      const problem = maxAgeProblem('preflightMaxAge', init.preflightMaxAge);
      if (problem) throw new CorsPolicyError(problem);
      this.preflightMaxAge = init.preflightMaxAge;
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
    if (this.supportsCredentials && exact.has(NULL_ORIGIN)) {
      throw new CorsPolicyError(
        "'null' is listed with credentials allowed: any sandboxed iframe or file: page sends Origin: null, so every site could act as the user: remove 'null' from the origins, or call disallowCredentials()",
      );
    }
    if (this.supportsCredentials && this.customIsOriginAllowed) {
      const { allowed, async } = this.askCanariesNow();
      if (allowed) throw new CorsPolicyError(`A policy that ${predicateAllowsCanary(allowed)}`);
      // Its answers now are not kept: what it needs (a service's settings) may be ready only once the app starts.
      if (async) this.canary = new CanaryCheck(this.customIsOriginAllowed);
    }
    Object.freeze(this);
  }

  /** Asks the predicate about origins no site uses: the first it allows at once, and whether it answers in a Promise. */
  private askCanariesNow(): { allowed?: string; async: boolean } {
    let async = false;
    for (const origin of CANARY_ORIGINS) {
      let answer: boolean | Promise<boolean>;
      try {
        answer = this.customIsOriginAllowed!(origin);
      } catch {
        continue; // a predicate that throws denies
      }
      // CorsService allows on any truthy answer, so the probe does too.
      if (isPromiseLike(answer)) {
        async = true;
        Promise.resolve(answer).catch(() => undefined);
      } else if (answer) return { allowed: origin, async };
    }
    return { async };
  }

  /**
   * For a policy with credentials and an async predicate: asks it about origins no site uses now (at the module's
   * startup) and resolves to the problem if it allows one, else undefined. Errors and falsy answers count as denials;
   * a predicate that does not answer is asked again on first use.
   */
  async probeCredentialedPredicate(): Promise<string | undefined> {
    const verdict = await this.canary?.run();
    return typeof verdict === 'string' ? predicateAllowsCanary(verdict) : undefined;
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
    if (this.customIsOriginAllowed) {
      const canary = this.canary;
      // Once it has said no to the origins no site uses, the predicate answers directly.
      return canary === undefined || canary.verdict === null ? this.customIsOriginAllowed(origin) : this.afterCanary(origin, canary);
    }
    return this.patterns.matches(origin);
  }

  /**
   * The predicate's answer (asked at once, beside the canary check) once it has said no to the origins no site uses;
   * a failure, which the handler logs and denies (RULES 10), while it has allowed one or not answered about them.
   */
  private async afterCanary(origin: string, canary: CanaryCheck): Promise<boolean> {
    const answer = Promise.resolve(this.customIsOriginAllowed!(origin));
    const verdict = canary.verdict ?? (await canary.run());
    if (verdict === null) return answer;
    answer.catch(() => undefined);
    if (verdict === undefined) {
      throw new CorsPolicyError(`A policy that allows credentials with an isOriginAllowed predicate that did not answer within ${CANARY_TIMEOUT_MS} ms whether it allows '${CANARY_ORIGINS[0]}', an origin no site uses: denied until it answers no`);
    }
    throw new CorsPolicyError(`A policy that ${predicateAllowsCanary(verdict)}`);
  }
}

/** How long the canary check waits for a predicate before it gives up (and asks again on the next request). */
const CANARY_TIMEOUT_MS = 5_000;

/**
 * A credentialed async predicate's answer about the canary origins, asked once (one question at a time) and then kept:
 * `null` when it allowed none, the origin it allowed, or undefined until it has answered. Mutable beside a frozen
 * policy. A predicate that does not answer within CANARY_TIMEOUT_MS is asked again later; the requests that waited are
 * denied, and none waits longer.
 */
class CanaryCheck {
  verdict: string | null | undefined = undefined;
  private pending: Promise<string | null | undefined> | undefined;

  constructor(private readonly predicate: IsOriginAllowed) {}

  run(): Promise<string | null | undefined> {
    if (this.verdict !== undefined) return Promise.resolve(this.verdict);
    this.pending ??= this.ask();
    return this.pending;
  }

  private async ask(): Promise<string | null | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, CANARY_TIMEOUT_MS, undefined);
      (timer as { unref?: () => void }).unref?.();
    });
    const answers = Promise.all(
      CANARY_ORIGINS.map(async (origin) => {
        try {
          return (await this.predicate(origin)) ? origin : null;
        } catch {
          return null; // a predicate that fails denies
        }
      }),
    ).then((origins) => origins.find((origin) => origin !== null) ?? null);
    try {
      const verdict = await Promise.race([answers, late]);
      this.verdict = verdict;
      return verdict;
    } finally {
      clearTimeout(timer);
      this.pending = undefined;
    }
  }
}
