/**
 * `nest-identity-cors doctor`: does what a browser's `fetch` does for one cross-origin request, against any
 * server, and records every check it makes as a step list. Framework-free; the HTTP is node:http(s) so that
 * every header is ours and no redirect is followed behind our back.
 *
 * Over 200 lines because the steps follow the Fetch standard's order (request, preflight, actual request,
 * redirects) and each records the checks a browser makes; the rules themselves are in fetch-rules.ts.
 */
import { normalizeOrigin } from '../core/origin.js';
import {
  DEFAULT_MAX_AGE,
  MAX_AGE_CAPS,
  REQUEST_BODY_HEADERS,
  authorizationOnlyByWildcard,
  checkPreflightAnswer,
  corsCheck,
  corsUnsafeRequestHeaderNames,
  getHeader,
  isForbiddenMethod,
  isForbiddenRequestHeader,
  isRedirectStatus,
  isToken,
  methodAfterRedirect,
  normalizeMethod,
  originAfterRedirect,
  parseAllowList,
  parseMaxAge,
  preflightCauses,
  readableResponseHeaders,
  type CheckFailure,
  type HeaderList,
} from './fetch-rules.js';
import { send, type HttpAnswer } from './http.js';
import type { CorsBlockReason, CorsStep, CorsWarning } from './reasons.js';

export interface DoctorRequest {
  url: string;
  /** The page's origin, e.g. `http://localhost:4200`. */
  origin: string;
  method?: string;
  /** Headers the page's script sets. */
  headers?: HeaderList;
  /** `credentials: 'include'`. */
  credentials?: boolean;
  timeoutMs?: number;
}

export interface DoctorStepReport {
  /** 1-based, as the text report numbers them. */
  index: number;
  step: CorsStep;
  title: string;
  sent?: { method: string; url: string; headers: HeaderList };
  received?: HttpAnswer;
  /** Each check the browser makes here, passed or failed, in its order. */
  checks: { ok: boolean; text: string }[];
  notes: string[];
}

export interface DoctorReport {
  request: { url: string; origin: string; method: string; headers: HeaderList; credentials: boolean };
  verdict: 'allowed' | 'blocked';
  blocked?: { step: number; at: CorsStep; reason: CorsBlockReason; because: string; fix: string };
  steps: DoctorStepReport[];
  warnings: { code: CorsWarning; step: number; message: string }[];
  /** When allowed: the final answer's status and the response headers script can read. */
  status?: number;
  readableHeaders?: string[];
}

/** A request a browser would not make at all (bad URL, origin, method or header): the CLI's exit code 2. */
export class DoctorUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DoctorUsageError';
  }
}

const MAX_REDIRECTS = 20; // "HTTP-redirect fetch": the 21st is a network error
const USER_AGENT = 'nest-identity-cors-doctor';
/** An origin no server should allow: a server that allows it with credentials reflects any origin. */
export const PROBE_ORIGIN = 'https://doctor-probe.invalid';

/** Checks the request as `fetch()` would before sending anything; returns it normalized. */
export function validateDoctorRequest(input: DoctorRequest): DoctorReport['request'] {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new DoctorUsageError(`'${input.url}' is not a URL: give an absolute one, e.g. http://localhost:5000/.well-known/openid-configuration`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DoctorUsageError(`'${input.url}' is not http(s): CORS applies to http: and https: URLs, e.g. https://${url.host || 'api.example'}/`);
  }
  if (url.username || url.password) {
    throw new DoctorUsageError(`'${input.url}' has a user name or password, which fetch() rejects: remove them, e.g. ${url.origin}${url.pathname}`);
  }
  let origin: string;
  try {
    origin = normalizeOrigin(input.origin);
  } catch (error) {
    throw new DoctorUsageError(`--origin: ${(error as Error).message}`);
  }
  const method = normalizeMethod(input.method ?? 'GET');
  if (!isToken(method)) throw new DoctorUsageError(`--method '${method}' is not an HTTP method name: e.g. GET, POST, PUT, DELETE, PATCH`);
  if (isForbiddenMethod(method)) throw new DoctorUsageError(`--method ${method} is forbidden: fetch() throws before sending it; use e.g. GET or POST`);
  const headers: [string, string][] = [];
  for (const [name, rawValue] of input.headers ?? []) {
    const value = rawValue.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, ''); // fetch trims a header value's whitespace
    if (!isToken(name)) throw new DoctorUsageError(`--header '${name}' is not a header name: e.g. --header 'Authorization: Bearer x'`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000\n\r]|[^\u0000-\u00ff]/.test(value)) {
      throw new DoctorUsageError(`--header ${name}: the value '${value}' has a character a header value cannot have (NUL, CR, LF, or above U+00FF)`);
    }
    if (isForbiddenRequestHeader(name)) {
      throw new DoctorUsageError(`--header ${name}: script cannot set this header (the browser sets or drops it); leave it out`);
    }
    headers.push([name, value]);
  }
  return { url: url.href, origin, method, headers, credentials: input.credentials ?? false };
}

/** Runs the request as a browser would and reports every step. Network failures throw DoctorNetworkError. */
export async function runDoctor(input: DoctorRequest): Promise<DoctorReport> {
  const request = validateDoctorRequest(input);
  const timeoutMs = input.timeoutMs ?? 10_000;
  const report: DoctorReport = { request, verdict: 'allowed', steps: [], warnings: [] };
  const addStep = (step: CorsStep, title: string): DoctorStepReport => {
    const entry: DoctorStepReport = { index: report.steps.length + 1, step, title, checks: [], notes: [] };
    report.steps.push(entry);
    return entry;
  };
  const block = (entry: DoctorStepReport, failure: CheckFailure): DoctorReport => {
    if (failure.reason === 'allow-origin-missing' && entry.received && variesByOrigin(entry.received.headers)) {
      // a server that answers by origin but not this one: its list of origins is what to change
      failure.because += ' (the answer says Vary: Origin, so the server does CORS, and does not allow this origin)';
      failure.fix = `add ${origin} to the origins the server allows (with nest-identity-cors: a client's allowedCorsOrigins for the identity paths, the policy's origins elsewhere)`;
    }
    entry.checks.push({ ok: false, text: failure.because });
    report.verdict = 'blocked';
    report.blocked = { step: entry.index, at: entry.step, ...failure };
    return report;
  };

  let url = new URL(request.url);
  let origin = request.origin;
  let method = request.method;
  let headers: HeaderList = request.headers;
  const credentials = request.credentials;

  const first = addStep('request', `${method} ${url.href} from ${origin}${credentials ? ', with credentials' : ''}`);
  if (url.origin === origin) {
    first.notes.push('Same origin: CORS does not apply, the browser sends the request as it is.');
    return report;
  }
  for (let redirects = 0; ; redirects++) {
    const causes = preflightCauses(method, headers);
    const classify = redirects === 0 ? first : addStep('request', `${method} ${url.href} (after the redirect), Origin: ${origin}`);
    if (causes.length === 0) classify.notes.push('No preflight: the method is CORS-safelisted and every header set is a CORS-safelisted header with a safelisted value.');
    else classify.notes.push('Preflight needed, because:', ...causes.map((cause) => `  - ${cause}`));

    let preflighted = false;
    if (causes.length > 0) {
      const unsafe = corsUnsafeRequestHeaderNames(headers);
      const entry = addStep('preflight', `Preflight OPTIONS ${url.href} (never with cookies or credentials, whatever the credentials mode)`);
      const sent: HeaderList = [
        ['Origin', origin],
        ['Accept', '*/*'],
        ['Access-Control-Request-Method', method],
        ...(unsafe.length > 0 ? ([['Access-Control-Request-Headers', unsafe.join(',')]] as const) : []),
        ['User-Agent', USER_AGENT],
      ];
      entry.sent = { method: 'OPTIONS', url: url.href, headers: sent };
      const answer = await send(url, 'OPTIONS', sent, timeoutMs);
      entry.received = answer;
      if (isRedirectStatus(answer.status)) {
        return block(entry, {
          reason: 'preflight-redirect',
          because: `the preflight's answer is a redirect (${answer.status} to ${getHeader(answer.headers, 'location') ?? 'nowhere'}), and a browser never follows one for a preflight`,
          fix: `answer OPTIONS ${url.pathname} itself with 204 and the CORS headers; if the redirect adds or drops a trailing slash or moves http to https, call the final URL directly`,
        });
      }
      const failure = checkPreflightAnswer({ origin, method, headers, credentials }, answer);
      describePreflightChecks(entry, { origin, method, headers, credentials }, answer, failure);
      if (failure) return block(entry, failure);
      if (authorizationOnlyByWildcard(headers, getHeader(answer.headers, 'access-control-allow-headers'), credentials)) {
        report.warnings.push({
          code: 'authorization-not-covered-by-wildcard',
          step: entry.index,
          message:
            "Authorization got through only because Access-Control-Allow-Headers is '*'. Browsers allow that today (Chromium logs a deprecation), the Fetch standard does not: list Authorization by name (e.g. *, Authorization).",
        });
      }
      noteMaxAge(report, entry, answer.headers);
      warnVary(report, entry, answer.headers);
      preflighted = true;
    }

    const entry = addStep('actual', `${method} ${url.href}`);
    const sent: HeaderList = [
      ['Origin', origin],
      ...(getHeader(headers, 'accept') === null ? ([['Accept', '*/*']] as const) : []),
      ...headers,
      ['User-Agent', USER_AGENT],
    ];
    entry.sent = { method, url: url.href, headers: sent };
    if (credentials) entry.notes.push('The browser would send its cookies for this site with it; the doctor has none.');
    const answer = await send(url, method, sent, timeoutMs);
    entry.received = answer;
    const location = getHeader(answer.headers, 'location');
    if (isRedirectStatus(answer.status) && location !== null) entry.step = 'redirect';
    const failure = corsCheck(origin, credentials, answer.headers);
    if (failure) {
      if (entry.step === 'redirect') failure.because = `the redirect (${answer.status} to ${location}): ${failure.because}`;
      return block(entry, failure);
    }
    entry.checks.push({ ok: true, text: describeAllowOrigin(answer.headers, credentials) });
    warnVary(report, entry, answer.headers);

    if (entry.step === 'redirect') {
      let next: URL;
      try {
        next = new URL(location!, url);
      } catch {
        return block(entry, { reason: 'redirect-invalid', because: `the redirect's Location '${location}' is not a URL`, fix: 'send an absolute or relative URL in Location' });
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        return block(entry, { reason: 'redirect-invalid', because: `the redirect goes to '${next.href}', which is not http(s)`, fix: 'redirect to an http(s) URL' });
      }
      if (next.username || next.password) {
        return block(entry, { reason: 'redirect-invalid', because: `the redirect's Location '${next.href}' has a user name or password, which a CORS request never follows`, fix: 'drop user:password@ from Location' });
      }
      if (redirects + 1 > MAX_REDIRECTS) {
        return block(entry, { reason: 'redirect-limit', because: `more than ${MAX_REDIRECTS} redirects`, fix: 'end the redirect chain (is it a loop?)' });
      }
      const nextOrigin = originAfterRedirect(origin, url, next);
      const nextMethod = methodAfterRedirect(answer.status, method);
      entry.notes.push(`Follows the redirect (${answer.status}) to ${next.href}.`);
      if (nextOrigin !== origin) entry.notes.push(`The redirect crosses origins: from here on the request's Origin is 'null', which only Access-Control-Allow-Origin: * or null accepts.`);
      if (nextMethod !== method) {
        entry.notes.push(`${answer.status} turns ${method} into GET, without the request body or its headers.`);
        headers = headers.filter(([n]) => !REQUEST_BODY_HEADERS.has(n.toLowerCase()));
      }
      url = next;
      origin = nextOrigin;
      method = nextMethod;
      continue;
    }

    report.status = answer.status;
    report.readableHeaders = readableResponseHeaders(answer.headers, credentials);
    entry.notes.push(`Script sees status ${answer.status} and can read these response headers: ${report.readableHeaders.join(', ') || '(none)'}.`);
    const hidden = answer.headers.map(([n]) => n.toLowerCase()).filter((n, i, all) => all.indexOf(n) === i && !report.readableHeaders!.includes(n));
    if (hidden.length > 0) entry.notes.push(`Hidden from script (not safelisted, not in Access-Control-Expose-Headers${credentials ? "; '*' does not count with credentials" : ''}): ${hidden.join(', ')}.`);
    if (preflighted && (answer.status === 404 || answer.status === 405)) {
      report.warnings.push({
        code: 'preflight-ok-actual-not-found',
        step: entry.index,
        message: `The preflight was allowed, but ${method} ${url.pathname} answers ${answer.status}: the OPTIONS answer comes from a route (or a catch-all) that does not serve the real request. Check the path and method.`,
      });
    }
    if (credentials && origin !== 'null' && getHeader(answer.headers, 'access-control-allow-credentials') === 'true') {
      await probeReflection(report, entry, url, preflighted ? 'OPTIONS' : method, method, headers, timeoutMs);
    }
    return report;
  }
}

function describeAllowOrigin(headers: HeaderList, credentials: boolean): string {
  const allowOrigin = getHeader(headers, 'access-control-allow-origin');
  if (allowOrigin === '*') return "Access-Control-Allow-Origin: * (any origin; accepted because the request has no credentials)";
  return `Access-Control-Allow-Origin: ${allowOrigin} equals the request's origin${credentials ? ', and Access-Control-Allow-Credentials: true' : ''}`;
}

/** The preflight's checks in order: 0 the CORS check, 1 the status, 2 the lists parse, 3 the method, 4 the headers. */
const PREFLIGHT_STAGES = 5;
const PREFLIGHT_STAGE: Record<CorsBlockReason, number> = {
  'allow-origin-missing': 0,
  'allow-origin-multiple': 0,
  'allow-origin-mismatch': 0,
  'allow-origin-wildcard-with-credentials': 0,
  'allow-credentials-missing': 0,
  'preflight-status': 1,
  'allow-list-invalid': 2,
  'method-not-allowed': 3,
  'authorization-not-covered-by-wildcard': 4,
  'header-not-allowed': 4,
  'preflight-redirect': 0,
  'redirect-invalid': 0,
  'redirect-limit': 0,
};

/** Lists the preflight checks that passed before the failing one (or all of them). */
function describePreflightChecks(
  entry: DoctorStepReport,
  request: { origin: string; method: string; headers: HeaderList; credentials: boolean },
  answer: HttpAnswer,
  failure: CheckFailure | null,
): void {
  const reached = failure ? PREFLIGHT_STAGE[failure.reason] : PREFLIGHT_STAGES;
  if (reached > 0) entry.checks.push({ ok: true, text: describeAllowOrigin(answer.headers, request.credentials) });
  if (reached > 1) entry.checks.push({ ok: true, text: `status ${answer.status} is an ok status (200–299)` });
  const methods = parseAllowList(getHeader(answer.headers, 'access-control-allow-methods'));
  if (reached > 3) {
    entry.checks.push({
      ok: true,
      text: ['GET', 'HEAD', 'POST'].includes(request.method)
        ? `method ${request.method} is CORS-safelisted: Access-Control-Allow-Methods need not list it`
        : `method ${request.method} is allowed by Access-Control-Allow-Methods: ${Array.isArray(methods) ? methods.join(', ') : ''}`,
    });
  }
  const unsafe = corsUnsafeRequestHeaderNames(request.headers);
  if (reached > 4 && unsafe.length > 0) {
    entry.checks.push({ ok: true, text: `request headers ${unsafe.join(', ')} are allowed by Access-Control-Allow-Headers: ${getHeader(answer.headers, 'access-control-allow-headers')}` });
  }
}

function noteMaxAge(report: DoctorReport, entry: DoctorStepReport, headers: HeaderList): void {
  const raw = getHeader(headers, 'access-control-max-age');
  const seconds = parseMaxAge(raw);
  if (raw === null) {
    entry.notes.push(`No Access-Control-Max-Age: browsers keep this preflight ${DEFAULT_MAX_AGE} seconds.`);
  } else if (seconds === null) {
    entry.notes.push(`Access-Control-Max-Age '${raw}' is not a number of seconds: browsers keep this preflight ${DEFAULT_MAX_AGE} seconds.`);
    report.warnings.push({ code: 'max-age-invalid', step: entry.index, message: `Access-Control-Max-Age '${raw}' is ignored by browsers: send whole seconds, e.g. 600.` });
  } else {
    const chromium = Math.min(seconds, MAX_AGE_CAPS.chromium);
    const firefox = Math.min(seconds, MAX_AGE_CAPS.firefox);
    entry.notes.push(`Access-Control-Max-Age: ${seconds}: Chromium keeps this preflight ${chromium} s, Firefox ${firefox} s.`);
    if (seconds > MAX_AGE_CAPS.chromium) {
      report.warnings.push({
        code: 'max-age-capped',
        step: entry.index,
        message: `Access-Control-Max-Age ${seconds} is above what browsers keep (Chromium ${MAX_AGE_CAPS.chromium} s, Firefox ${MAX_AGE_CAPS.firefox} s): the extra buys nothing.`,
      });
    }
  }
}

function variesByOrigin(headers: HeaderList): boolean {
  const vary = (getHeader(headers, 'vary') ?? '').split(',').map((v) => v.trim().toLowerCase());
  return vary.includes('origin') || vary.includes('*');
}

/** An origin-specific answer must say `Vary: Origin`, or a shared cache may hand it to another origin. */
function warnVary(report: DoctorReport, entry: DoctorStepReport, headers: HeaderList): void {
  const allowOrigin = getHeader(headers, 'access-control-allow-origin');
  if (allowOrigin === null || allowOrigin === '*') return;
  if (variesByOrigin(headers)) return;
  report.warnings.push({
    code: 'vary-origin-missing',
    step: entry.index,
    message: `The ${entry.step === 'preflight' ? 'preflight answer' : 'answer'} names one origin in Access-Control-Allow-Origin without Vary: Origin: an HTTP cache may serve it to a page of another origin, which the browser then blocks. Add Vary: Origin.`,
  });
}

/**
 * Asks again from an origin nobody allows; a server that answers it with credentials allowed reflects any
 * origin, so any site can read its users' data. Only OPTIONS, GET or HEAD are repeated (no side effects).
 */
async function probeReflection(
  report: DoctorReport,
  entry: DoctorStepReport,
  url: URL,
  probeMethod: string,
  method: string,
  headers: HeaderList,
  timeoutMs: number,
): Promise<void> {
  if (probeMethod !== 'OPTIONS' && probeMethod !== 'GET' && probeMethod !== 'HEAD') {
    entry.notes.push(`Not probed for a reflected origin: repeating ${probeMethod} could have side effects.`);
    return;
  }
  const unsafe = corsUnsafeRequestHeaderNames(headers);
  const probeHeaders: HeaderList =
    probeMethod === 'OPTIONS'
      ? [['Origin', PROBE_ORIGIN], ['Access-Control-Request-Method', method], ...(unsafe.length > 0 ? ([['Access-Control-Request-Headers', unsafe.join(',')]] as const) : []), ['User-Agent', USER_AGENT]]
      : [['Origin', PROBE_ORIGIN], ...headers, ['User-Agent', USER_AGENT]];
  const answer = await send(url, probeMethod, probeHeaders, timeoutMs);
  entry.notes.push(`Probe: ${probeMethod} again from Origin: ${PROBE_ORIGIN} got Access-Control-Allow-Origin: ${getHeader(answer.headers, 'access-control-allow-origin') ?? '(none)'}.`);
  if (getHeader(answer.headers, 'access-control-allow-origin') === PROBE_ORIGIN && getHeader(answer.headers, 'access-control-allow-credentials') === 'true') {
    report.warnings.push({
      code: 'credentials-with-reflected-origin',
      step: entry.index,
      message: `The server allows credentials for ${PROBE_ORIGIN}, an origin made up by the doctor: it reflects any Origin, so any web site can read this URL with its visitors' cookies. Allow a list of origins instead.`,
    });
  }
}
