export interface LimitedLogger {
  debug(message: string): void;
  error(message: string): void;
  log(message: string): void;
}

interface Cause {
  /** When the last line for this cause was written. */
  loggedAt: number;
  /** Occurrences since then that were not written. */
  suppressed: number;
}

interface Outage extends Cause {
  /** Failed decisions since the outage began. */
  total: number;
}

/** Keys beyond this bound share one entry, so the limiter's memory stays bounded whatever is logged. */
const MAX_CAUSES = 1000;
const OVERFLOW = '(other causes)';

/**
 * Keeps logs useful and bounded under a flood (attackers choose how many requests are denied, and an
 * outage fails every request): the first occurrence of a cause is written at once, with its example;
 * then at most one line per interval per cause, saying how many were left out. Failures of a source
 * (a policy) are an outage: ERROR when it starts failing, the count of failed decisions per interval,
 * and one line when it answers again. Counts are reported with the next occurrence after the interval.
 *
 * Causes are keys chosen by the caller from a bounded set (reason and policy), never request values.
 */
export class LogLimiter {
  /** Sources failing now; a field, so the success path checks only this. */
  failing = 0;
  /** Milliseconds' clock; replaceable for tests. */
  now: () => number = Date.now;
  private readonly causes = new Map<string, Cause>();
  private readonly outages = new Map<string, Outage>();

  constructor(
    private readonly logger: LimitedLogger,
    readonly intervalMs = 60_000,
  ) {}

  /** Writes `line()` (and the count left out since the last line of this cause), or counts it. */
  limited(level: 'debug' | 'error', cause: string, line: () => string): void {
    const now = this.now();
    let entry = this.causes.get(cause);
    if (entry === undefined) {
      if (this.causes.size >= MAX_CAUSES) cause = OVERFLOW;
      entry = this.causes.get(cause);
      if (entry === undefined) {
        this.causes.set(cause, { loggedAt: now, suppressed: 0 });
        this.logger[level](line());
        return;
      }
    }
    if (now - entry.loggedAt < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry.suppressed;
    entry.loggedAt = now;
    entry.suppressed = 0;
    this.logger[level](suppressed === 0 ? line() : `${line()} (${suppressed} more like it in the last ${this.seconds()} s were not logged)`);
  }

  /**
   * A decision by `source` (named `label`) failed for the request described by `example`: ERROR once as
   * the outage begins, then its count once per interval.
   */
  failed(source: string, label: string, error: string, example: string): void {
    const now = this.now();
    const outage = this.outages.get(source);
    if (outage === undefined) {
      if (this.outages.size >= MAX_CAUSES) return this.limited('error', OVERFLOW, () => `${example} denied because ${label} failed: ${error}`);
      this.outages.set(source, { loggedAt: now, suppressed: 0, total: 1 });
      this.failing++;
      this.logger.error(
        `${example} denied because ${label} failed: ${error}. CORS requests it decides are denied until it answers again; further failures are counted, one line per ${this.seconds()} s`,
      );
      return;
    }
    outage.total++;
    if (now - outage.loggedAt < this.intervalMs) {
      outage.suppressed++;
      return;
    }
    const failedSince = outage.suppressed + 1;
    outage.loggedAt = now;
    outage.suppressed = 0;
    this.logger.error(`${label} is still failing: ${failedSince} more CORS requests denied in the last ${this.seconds()} s (latest error: ${error})`);
  }

  /** A decision by `source` succeeded: ends its outage, if any, with one line. Call only when `failing` is not 0. */
  succeeded(source: string, label: string): void {
    const outage = this.outages.get(source);
    if (outage === undefined) return;
    this.outages.delete(source);
    this.failing--;
    this.logger.log(`${label} answers again; ${outage.total} CORS requests were denied while it failed`);
  }

  private seconds(): number {
    return Math.round(this.intervalMs / 1000);
  }
}
