import fc from 'fast-check';
import { CorsPolicyBuilder, CorsService, type CorsResult } from 'nest-identity-cors';
import { HeaderList } from '../../lib/core/preflight-answers.js';
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
  const list = new HeaderList(response);
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
