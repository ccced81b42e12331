import fc from 'fast-check';
import { CorsPolicy, CorsPolicyBuilder } from 'nest-identity-cors';
import { parseRequestOrigin } from '../../lib/core/origin.js';

const LISTED = ['https://app.example.com', 'http://localhost:4200', 'https://api.example.com:8443'];
const policy = new CorsPolicyBuilder().withOrigins(...LISTED, 'https://*.tenant.example.org').build();

function isAllowed(origin: string): boolean {
  const serialized = parseRequestOrigin(origin);
  return serialized !== undefined && policy.isOriginAllowed(serialized) === true;
}

/** Twists of a listed origin that an attacker may register or send. */
const adversarial = fc.oneof(
  fc.constantFrom(...LISTED).chain((origin) =>
    fc.oneof(
      fc.string({ maxLength: 12 }).map((s) => origin + s), // suffix: https://app.example.com.evil.com
      fc.string({ maxLength: 12 }).map((s) => s + origin), // prefix
      fc.constant(origin.toUpperCase()),
      fc.constant(origin + '/'),
      fc.constant(origin.replace('https:', 'http:')),
      fc.constant(origin.replace('http:', 'https:')),
      fc.constant(origin.replace('.', 'x')), // unescaped-dot regex trick: appxexample.com
      fc.constant(origin.replace('://', '://evil.')),
      fc.constant(origin.replace('://', '://user@')),
      fc.integer({ min: 1, max: 65535 }).map((port) => `${origin.replace(/:\d+$/, '')}:${port}`),
      fc.constantFrom('\u0000', '\t', '\n', '\r', ' ', '\u00a0', '\u200b', '\u202e', '%00', '%2e').map((c) => origin + c),
      fc.constantFrom('\u0000', '\t', '\n', ' ', '\u200b').map((c) => origin.replace('://', `://${c}`)),
    ),
  ),
  fc.constant('null'),
  fc.constantFrom('https://tenant.example.org', 'https://eviltenant.example.org', 'https://a.tenant.example.org.evil.com', 'http://a.tenant.example.org'),
  fc.webUrl(),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => `https://${s}`),
);

describe('origin matching never admits what is not listed (RULES 2)', () => {
  it('allows an origin only if it is exactly listed or a whole-label subdomain of the declared pattern', () => {
    fc.assert(
      fc.property(adversarial, (origin) => {
        const expected = LISTED.includes(origin) || /^https:\/\/([a-z0-9-]+\.)+tenant\.example\.org$/.test(origin);
        expect(isAllowed(origin)).toBe(expected);
        expect(policy.isOriginAllowed(origin)).toBe(expected); // unvalidated, straight to the policy
      }),
      { numRuns: 5000 },
    );
  });

  it('any origin a browser could send is allowed by a policy listing exactly that origin, and no other', () => {
    const host = fc.domain();
    fc.assert(
      fc.property(fc.constantFrom('http', 'https'), host, fc.option(fc.integer({ min: 1, max: 65535 })), host, (scheme, a, port, b) => {
        const origin = new URL(`${scheme}://${a}${port === null ? '' : `:${port}`}`).origin;
        const exact = new CorsPolicy({ origins: [origin] });
        expect(parseRequestOrigin(origin)).toBe(origin);
        expect(exact.isOriginAllowed(origin)).toBe(true);
        const other = new URL(`${scheme}://${b}`).origin;
        if (other !== origin) expect(exact.isOriginAllowed(other)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('null is allowed only when listed as null, never by any-origin, patterns or predicates', () => {
    expect(new CorsPolicyBuilder().allowAnyOrigin().build().isOriginAllowed('null')).toBe(false);
    expect(new CorsPolicyBuilder().setIsOriginAllowed(() => true).build().isOriginAllowed('null')).toBe(false);
    expect(policy.isOriginAllowed('null')).toBe(false);
    expect(new CorsPolicyBuilder().withOrigins('null').build().isOriginAllowed('null')).toBe(true);
  });

  it('no string longer than the bound is a valid request origin', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 301, maxLength: 2000 }), (s) => {
        expect(parseRequestOrigin(`https://${s}`)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });
});

describe('policies refuse unvalidated input given to isOriginAllowed directly', () => {
  it.each(['https://evil.com/.tenant.example.org', 'https://evil.com?.tenant.example.org', 'https://evil.com#.tenant.example.org', 'https://a.tenant.example.org/', ' https://app.example.com'])(
    '%j is refused by patterns, any-origin and predicates',
    async (origin) => {
      expect(policy.isOriginAllowed(origin)).toBe(false);
      expect(new CorsPolicyBuilder().allowAnyOrigin().build().isOriginAllowed(origin)).toBe(false);
      expect(await new CorsPolicyBuilder().setIsOriginAllowed(() => true).build().isOriginAllowed(origin)).toBe(false);
    },
  );
});
