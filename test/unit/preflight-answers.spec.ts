import fc from 'fast-check';
import { CorsPolicyBuilder, CorsService, type CorsResult } from 'nest-identity-cors';
import { PendingHeaders, PreflightAnswers } from '../../lib/core/preflight-answers.js';
import { FakeResponse, preflight } from '../support/fake-http.js';

// The remembered preflight answers (lib/core/preflight-answers.ts) must never change an answer: whatever the order of
// preflights, a shared evaluation gives what a fresh one gives, and its headers are what applyResult writes (RULES 5 – 8).

/** A predicate whose answer the test changes between preflights, as ICorsPolicyService's may change. */
let predicateAllows = true;
const policies = [
  new CorsPolicyBuilder().withOrigins('https://a.example', 'https://b.example').allowAnyMethod().allowAnyHeader().build(),
  new CorsPolicyBuilder().withOrigins('https://a.example').withMethods('GET', 'PUT').withHeaders('x-a').setPreflightMaxAge(60).build(),
  new CorsPolicyBuilder().withOrigins('https://a.example').allowAnyMethod().allowAnyHeader().allowCredentials().build(),
  new CorsPolicyBuilder().allowAnyOrigin().allowAnyMethod().allowAnyHeader().build(),
  new CorsPolicyBuilder().setIsOriginAllowed(() => predicateAllows).allowAnyMethod().allowAnyHeader().build(),
  new CorsPolicyBuilder().setIsOriginAllowed(async () => predicateAllows).allowAnyMethod().withHeaders('x-a').build(),
];
const preflightInput = fc.record({
  policy: fc.nat(policies.length - 1),
  origin: fc.constantFrom('https://a.example', 'https://b.example', 'https://c.example', 'null'),
  method: fc.constantFrom('GET', 'PUT', 'PROPFIND', 'BAD METHOD'),
  requestHeaders: fc.constantFrom(undefined, '', 'x-a', 'X-A, x-b', 'bad header'),
});
/** A few preflights per run, each sent again and again (so that answers are found, kept and dropped), in any order. */
const run = fc.record({
  inputs: fc.array(preflightInput, { minLength: 2, maxLength: 12, size: 'max' }),
  steps: fc.array(fc.record({ pick: fc.nat(11), vary: fc.constantFrom(undefined, 'Accept', '*', 'origin'), allows: fc.boolean() }), { minLength: 10, maxLength: 80, size: 'max' }),
});

/** The headers written for a result: by preflightHeaders (shared) or applyResult on a fresh list (the reference). */
function headersOf(cors: CorsService, result: CorsResult, vary: string | undefined, shared: boolean): unknown[] {
  const response = new FakeResponse();
  if (vary !== undefined) response.setHeader('Vary', vary);
  if (shared) return [...cors.preflightHeaders(result, response)];
  const list = new PendingHeaders(response);
  cors.applyResult(result, list);
  return list.headers;
}

describe('CorsService: preflight answers it remembers (PreflightAnswers)', () => {
  it('answers every preflight as a fresh evaluation would, whatever came before it', async () => {
    await fc.assert(
      fc.asyncProperty(run, async ({ inputs, steps }) => {
        const shared = new CorsService();
        const fresh = new CorsService();
        for (const { pick, vary, allows } of steps) {
          const { policy, origin, method, requestHeaders } = inputs[pick % inputs.length]!;
          predicateAllows = allows;
          const request = preflight(origin, method, requestHeaders);
          const got = await shared.evaluateOrigin(request, policies[policy]!, origin, true, true);
          const expected = await fresh.evaluateOrigin(preflight(origin, method, requestHeaders), policies[policy]!, origin, true);
          expect(got).toEqual(expected);
          expect(headersOf(shared, got, vary, true)).toEqual(headersOf(fresh, expected, vary, false));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('shares an allowed preflight result, frozen, only with a caller that asks (evaluatePolicy gives its own)', async () => {
    const cors = new CorsService();
    const policy = policies[0]!;
    const first = await cors.evaluateOrigin(preflight('https://a.example', 'PUT', 'x-a'), policy, 'https://a.example', true, true);
    const second = await cors.evaluateOrigin(preflight('https://a.example', 'PUT', 'x-a'), policy, 'https://a.example', true, true);
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    const own = await cors.evaluatePolicy(preflight('https://a.example', 'PUT', 'x-a'), policy);
    expect(own).not.toBe(first);
    expect(Object.isFrozen(own)).toBe(false);
    expect(own).toEqual(first);
  });

  it('asks the policy on every preflight: a kept answer is denied once the policy no longer allows the origin', async () => {
    const cors = new CorsService();
    const policy = policies[4]!;
    predicateAllows = true;
    const allowed = await cors.evaluateOrigin(preflight('https://a.example', 'GET'), policy, 'https://a.example', true, true);
    predicateAllows = false;
    const denied = await cors.evaluateOrigin(preflight('https://a.example', 'GET'), policy, 'https://a.example', true, true);
    expect([allowed.isOriginAllowed, denied.isOriginAllowed, denied.allowedOrigin]).toEqual([true, false, undefined]);
    expect(headersOf(cors, denied, undefined, true)).toEqual(['Vary', 'Origin']);
  });
});

describe('PreflightAnswers: what it keeps and reuses', () => {
  const policy = policies[0]!;
  const evaluate = (cors: CorsService, origin: string, method: string) => cors.evaluateOrigin(preflight(origin, method, 'x-a'), policy, origin, true, true) as CorsResult;

  it('keeps the last four allowed preflights: a fifth takes the oldest slot', () => {
    const cors = new CorsService();
    const methods = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'];
    const first = methods.map((method) => evaluate(cors, 'https://a.example', method));
    // PATCH took GET's slot; the others are found (a hit moves nothing), GET is evaluated again.
    const again = [...methods.slice(1), 'GET'].map((method) => evaluate(cors, 'https://a.example', method));
    expect(again.map((result, i) => result === first[(i + 1) % methods.length])).toEqual([true, true, true, true, false]);
    expect(again[4]).toEqual(first[0]);
  });

  it('builds a kept result\'s headers once for responses without a Vary of their own, and gives each caller its own copy', () => {
    const answers = new PreflightAnswers();
    const result = answers.keep(policy, 'https://a.example', 'GET', undefined, evaluate(new CorsService(), 'https://a.example', 'GET'));
    let writes = 0;
    const write = (written: CorsResult, response: { setHeader(name: string, value: string): void }) => {
      writes += 1;
      response.setHeader('Vary', 'Origin');
      response.setHeader('Access-Control-Allow-Origin', String(written.allowedOrigin));
    };
    const first = answers.headersOf(result, new FakeResponse(), write, true);
    first.push('X-Changed-By-A-Wrapper', 'yes');
    const second = answers.headersOf(result, new FakeResponse(), write, true);
    expect(writes).toBe(1);
    expect(second).toEqual(['Vary', 'Origin', 'Access-Control-Allow-Origin', 'https://a.example']);
    expect(second).not.toBe(first);
    const withVary = new FakeResponse();
    withVary.setHeader('Vary', 'Accept');
    answers.headersOf(result, withVary, write, true);
    expect(writes).toBe(2);
    // A result it does not keep (another slot took it) is written each time.
    const other = evaluate(new CorsService(), 'https://b.example', 'GET');
    answers.headersOf(other, new FakeResponse(), write, true);
    answers.headersOf(other, new FakeResponse(), write, true);
    expect(writes).toBe(4);
  });

  it('gives a slot its new result\'s headers, not those of the result it held before', () => {
    const cors = new CorsService();
    const response = () => new FakeResponse();
    const oldest = evaluate(cors, 'https://a.example', 'GET');
    expect(cors.preflightHeaders(oldest, response())).toContain('GET');
    for (const method of ['PUT', 'POST', 'DELETE', 'PATCH']) evaluate(cors, 'https://a.example', method);
    const newest = evaluate(cors, 'https://b.example', 'PUT');
    expect(cors.preflightHeaders(newest, response())).toEqual([
      'Vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      'Access-Control-Allow-Origin', 'https://b.example',
      'Access-Control-Allow-Methods', 'PUT',
      'Access-Control-Allow-Headers', 'x-a',
    ]);
  });

  it('keeps one result for concurrent misses of one preflight decided asynchronously', async () => {
    const cors = new CorsService();
    const asyncPolicy = policies[5]!;
    predicateAllows = true;
    const results = await Promise.all(Array.from({ length: 6 }, () => cors.evaluateOrigin(preflight('https://a.example', 'GET', 'x-a'), asyncPolicy, 'https://a.example', true, true)));
    expect(results.every((result) => result === results[0])).toBe(true);
    // The other slots were not taken by copies: four more preflights kept, and the first is still found.
    for (const method of ['PUT', 'POST', 'DELETE']) await cors.evaluateOrigin(preflight('https://a.example', method, 'x-a'), asyncPolicy, 'https://a.example', true, true);
    expect(await cors.evaluateOrigin(preflight('https://a.example', 'GET', 'x-a'), asyncPolicy, 'https://a.example', true, true)).toBe(results[0]);
  });

  it('writes with a subclass\'s applyResult every time (its headers are not reused)', () => {
    let calls = 0;
    class Stamped extends CorsService {
      override applyResult(result: CorsResult, response: { getHeader(name: string): unknown; setHeader(name: string, value: string): unknown }): void {
        super.applyResult(result, response as never);
        response.setHeader('X-Stamp', String(++calls));
      }
    }
    const cors = new Stamped();
    const result = evaluate(cors, 'https://a.example', 'GET');
    expect(cors.preflightHeaders(result, new FakeResponse())).toContain('1');
    expect(cors.preflightHeaders(result, new FakeResponse())).toContain('2');
  });
});
