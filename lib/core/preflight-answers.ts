/**
 * The last few allowed preflight answers of a CorsService, and the flat header list each is written as: the speed
 * trick of the preflight path, in one place. A browser app sends the same preflight (origin, method, requested
 * headers) again and again, and evaluating it, building its result and then its headers cost about 1 k instructions
 * of an identity preflight of 27 k (bench/layer-instructions.sh, Fastify (fd)); a hit costs a few compares.
 *
 * What a result depends on is all in the key: the policy (a CorsPolicy freezes itself: the same object is the same
 * data), the origin, and the raw Access-Control-Request-Method and -Headers values. Whether the origin is allowed is not remembered:
 * the policy is asked on every preflight (a predicate's or ICorsPolicyService's answer may change). Only valid
 * preflights that were allowed are kept, frozen, since every hit shares them. A few slots compared with `===`: a
 * Map would hash each fresh request string first, and attackers choose these values (a miss only evaluates again).
 * The slots hold their last four policies and request strings (each at most a request header's size) until replaced.
 */
import type { CorsPolicy } from './cors-policy.js';
import type { CorsResponse, CorsResult } from './cors.service.js';

/** A header list as Node's writeHead takes it: `[name, value, name, value, …]`. */
export type FlatHeaders = Array<string | number | readonly string[]>;

interface Answer {
  policy: CorsPolicy | undefined;
  origin: string | undefined;
  requestMethod: string | undefined;
  requestHeaders: string | undefined;
  result: CorsResult | undefined;
  /** The result's headers for a response with no Vary of its own; built on the first preflight that needs them. */
  headers: FlatHeaders | undefined;
}

/** How many answers are kept: a browser app's few origins and requests; more would cost every miss a compare. */
const SLOTS = 4;

export class PreflightAnswers {
  private readonly answers: Answer[] = Array.from({ length: SLOTS }, () => ({
    policy: undefined,
    origin: undefined,
    requestMethod: undefined,
    requestHeaders: undefined,
    result: undefined,
    headers: undefined,
  }));
  /** The slot the next answer takes (the oldest). */
  private next = 0;

  /** The result kept for this preflight, if any. */
  find(policy: CorsPolicy, origin: string, requestMethod: string, requestHeaders: string | undefined): CorsResult | undefined {
    const answers = this.answers;
    for (let i = 0; i < SLOTS; i++) {
      const answer = answers[i]!;
      if (answer.policy === policy && answer.origin === origin && answer.requestMethod === requestMethod && answer.requestHeaders === requestHeaders) return answer.result;
    }
    return undefined;
  }

  /**
   * Keeps an allowed preflight's result (frozen: every hit shares it) in the oldest slot, and returns it; or returns
   * the one kept meanwhile (concurrent misses of one preflight, decided asynchronously), which keeps its slot.
   */
  keep(policy: CorsPolicy, origin: string, requestMethod: string, requestHeaders: string | undefined, result: CorsResult): CorsResult {
    const held = this.find(policy, origin, requestMethod, requestHeaders);
    if (held !== undefined) return held;
    Object.freeze(result.allowedMethods);
    Object.freeze(result);
    const answer = this.answers[this.next]!;
    answer.policy = policy;
    answer.origin = origin;
    answer.requestMethod = requestMethod;
    answer.requestHeaders = requestHeaders;
    answer.result = result;
    answer.headers = undefined;
    this.next = (this.next + 1) % SLOTS;
    return result;
  }

  /**
   * The headers `write` produces for a result, as a list of the caller's own: for a kept result on a response with no
   * Vary of its own, when `reusable` (the same `write` always writes the same), a copy of the list built the first
   * time; otherwise built each time.
   */
  headersOf(result: CorsResult, response: CorsResponse, write: (result: CorsResult, response: CorsResponse) => void, reusable: boolean): FlatHeaders {
    const answer = reusable && response.getHeader('vary') === undefined ? this.keptFor(result) : undefined;
    // A copy: a writeHead wrapper (an APM agent's, the app's) may change the list it is given. Not a frozen list
    // shared instead: Node's writeHead reads a frozen list's elements in its generic path, about 0.6 k more.
    if (answer?.headers !== undefined) return answer.headers.slice();
    const list = new PendingHeaders(response);
    write(result, list);
    if (answer !== undefined) answer.headers = list.headers.slice();
    return list.headers;
  }

  private keptFor(result: CorsResult): Answer | undefined {
    const answers = this.answers;
    for (let i = 0; i < SLOTS; i++) if (answers[i]!.result === result) return answers[i];
    return undefined;
  }
}

/**
 * A response's headers collected for one writeHead call (a preflight's answer): Node's writeHead takes them without
 * the per-header bookkeeping of setHeader when the response has none set yet. A flat `[name, value, …]` list, as
 * writeHead accepts (HTTP/2's compatibility API too): an object keyed by each name cost V8 a megamorphic store per
 * header, and Node a property check per header (bench/layer-instructions.sh).
 */
export class PendingHeaders implements CorsResponse {
  readonly headers: FlatHeaders = [];

  constructor(private readonly response: CorsResponse) {}

  /** The response's own: the CorsService reads a header (Vary) before it writes it, once. */
  getHeader(name: string): number | string | string[] | undefined {
    return this.response.getHeader(name);
  }

  setHeader(name: string, value: number | string | readonly string[]): void {
    this.headers.push(name, value);
  }
}
