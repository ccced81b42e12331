import fc from 'fast-check';
import { countUrlParses } from '../support/url-parses.js';
import { mayBeSameOrigin, parseRequestOrigin, serverOrigin } from '../../lib/core/origin.js';
import { OriginPattern, OriginPatternSet } from '../../lib/core/origin-pattern.js';

// The indexed pattern lookup and the memoized origin checks are speed-ups: each must answer exactly
// what the plain version answers.

const PATTERNS = [
  'https://*.example.com',
  'https://*.a.example.com',
  'http://*.example.com:8080',
  'https://*.tenant.example.org:8443',
  'capacitor://*.app.test',
  'https://*.localhost',
  'https://*.example.net.',
].map((p) => OriginPattern.parse(p));

const label = fc.constantFrom('a', 'b', 'example', 'tenant', 'app', 'com', 'org', 'net', 'localhost', 'test', 'x-y', '');
const origin = fc
  .record({
    scheme: fc.constantFrom('https', 'http', 'capacitor', 'wss'),
    labels: fc.array(label, { minLength: 1, maxLength: 5 }),
    trailingDot: fc.boolean(),
    port: fc.option(fc.constantFrom(80, 443, 8080, 8443, 3000), { nil: undefined }),
  })
  .map(({ scheme, labels, trailingDot, port }) => `${scheme}://${labels.join('.')}${trailingDot ? '.' : ''}${port === undefined ? '' : `:${port}`}`)
  .map((value) => parseRequestOrigin(value))
  .filter((value): value is string => value !== undefined);

describe('OriginPatternSet', () => {
  it('matches an origin exactly when one of its patterns does', () => {
    fc.assert(
      fc.property(fc.subarray(PATTERNS), origin, (patterns, candidate) => {
        const expected = patterns.some((pattern) => pattern.matches(candidate));
        expect(new OriginPatternSet(patterns).matches(candidate)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('matches whole labels only, with the same scheme and port', () => {
    const set = new OriginPatternSet(PATTERNS);
    expect(set.matches('https://x.a.example.com')).toBe(true);
    expect(set.matches('https://example.com')).toBe(false);
    expect(set.matches('https://evilexample.com')).toBe(false);
    expect(set.matches('http://x.example.com')).toBe(false);
    expect(set.matches('http://x.example.com:8080')).toBe(true);
    expect(set.matches('https://x.tenant.example.org')).toBe(false);
    expect(set.matches('https://x.tenant.example.org:8443')).toBe(true);
    expect(set.matches('https://[::1]')).toBe(false);
    expect(new OriginPatternSet([]).matches('https://x.example.com')).toBe(false);
  });
});

describe('memoized origin checks', () => {
  it('give the same answer on the first and on every later call', () => {
    for (const value of ['https://a.example', 'HTTPS://A.EXAMPLE', 'https://a.example/', 'https://a.example:443', 'null', 'https://a.example\t']) {
      const first = parseRequestOrigin(value);
      expect(parseRequestOrigin(value)).toBe(first);
      expect(parseRequestOrigin(value)).toBe(first);
    }
    expect(parseRequestOrigin('https://a.example')).toBe('https://a.example');
    expect(parseRequestOrigin('https://a.example/')).toBeUndefined();
    expect(serverOrigin('http', 'Localhost:80')).toBe('http://localhost');
    expect(serverOrigin('http', 'Localhost:80')).toBe('http://localhost');
    expect(serverOrigin('http', 'bad host')).toBeUndefined();
    expect(serverOrigin('http', 'bad host')).toBeUndefined();
  });

  it('parse each distinct value with new URL once; later calls answer from the memo', async () => {
    // an origin, and a value refused only once parsed (a browser never sends upper case): both are remembered
    const fresh = ['https://memo-probe.example', 'HTTPS://MEMO-PROBE.example'];
    const parses = await countUrlParses([...fresh, 'http://memo-host.example'], () => {
      for (let i = 0; i < 3; i++) {
        for (const value of fresh) parseRequestOrigin(value);
        serverOrigin('http', 'memo-host.example');
      }
    });
    expect(Object.fromEntries(parses)).toEqual({ 'https://memo-probe.example': 1, 'HTTPS://MEMO-PROBE.example': 1, 'http://memo-host.example': 1 });
  });
});

describe('mayBeSameOrigin (the cheap test before serverOrigin)', () => {
  it('is true whenever serverOrigin could equal the origin, whatever the case in Host or how it spells the port', () => {
    for (const [origin, host] of [
      ['https://id.example', 'id.example'],
      ['https://id.example', 'ID.Example:443'],
      ['https://id.example', 'id.example:'],
      ['http://id.example', 'id.example:80'],
      ['http://id.example:8443', 'id.example:8443'],
      ['http://localhost:3000', 'localhost:03000'],
      ['http://[::1]:3000', '[::1]:3000'],
      ['capacitor://localhost', 'localhost'],
    ]) {
      expect(mayBeSameOrigin(origin, host)).toBe(true);
    }
  });

  it('is false for the same host name on another port, the default one included (a dev server on localhost:4200 calling localhost:3000)', () => {
    expect(mayBeSameOrigin('http://localhost:4200', 'localhost:3000')).toBe(false);
    expect(mayBeSameOrigin('http://localhost:4200', 'localhost')).toBe(false);
    expect(mayBeSameOrigin('http://localhost', 'localhost:3000')).toBe(false);
    expect(mayBeSameOrigin('https://id.example', 'id.example:80')).toBe(false);
    expect(mayBeSameOrigin('http://id.example', 'id.example:443')).toBe(false);
    expect(mayBeSameOrigin('capacitor://localhost', 'localhost:80')).toBe(false);
  });

  it('answers exactly whether serverOrigin gives the origin for some protocol (origins as browsers send them; names, ports and cases generated)', () => {
    // As the library serializes origins (see originOf in lib/core/origin.ts): the URL standard's, or scheme and host for other schemes.
    const serialized = (url: URL) => (url.origin !== 'null' ? url.origin : `${url.protocol}//${url.host}`.toLowerCase());
    const schemes = ['http', 'https', 'ws', 'wss', 'ftp', 'capacitor'];
    // Labels that the URL standard keeps as they are (a numeric last label would be read as an IPv4 address).
    const label = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,5}$/);
    const name = fc.oneof(fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.')), fc.constantFrom('[::1]', '127.0.0.1', '1.2.3.4'));
    const port = fc.oneof(
      fc.constant(''),
      fc.constant(':'),
      fc.constantFrom(':80', ':443', ':21', ':3000', ':4200'),
      fc.integer({ min: 0, max: 65535 }).map((p) => `:${p}`),
      fc.integer({ min: 0, max: 65535 }).map((p) => `:00${p}`),
    );
    fc.assert(
      fc.property(fc.constantFrom(...schemes), name, port, name, port, fc.boolean(), (scheme, originName, originPort, hostName, hostPort, same) => {
        const origin = serialized(new URL(`${scheme}://${originName}${originPort}`));
        const host = `${same ? originName.toUpperCase() : hostName}${hostPort}`;
        const reference = schemes.some((protocol) => serverOrigin(protocol, host) === origin);
        expect(mayBeSameOrigin(origin, host)).toBe(reference);
      }),
      { numRuns: 2000 },
    );
  });

  it('is never false where serverOrigin could equal the origin, whatever Host holds (odd ports, IPv6 literals, junk)', () => {
    // One-letter schemes too (behind `trust proxy` the protocol is X-Forwarded-Proto's): the fifth character of `x://h:1` is a colon.
    const origins = fc.constantFrom('https://id.example', 'http://id.example:8080', 'http://[::1]:3000', 'http://[::1]', 'capacitor://localhost', 'https://127.0.0.1', 'x://h:1', 'x://[::1]:3000', 'ab://h', 'x://h');
    const junk = fc.stringMatching(/^[a-z0-9.:[\]@-]{0,12}$/);
    fc.assert(
      fc.property(origins, junk, fc.boolean(), fc.constantFrom('', ':', ':1', ':01', ':80', ':443', ':x', ':3000', ':8080', ':03000'), (origin, host, same, port) => {
        const name = origin.slice(origin.indexOf('://') + 3).replace(/:\d+$/, '');
        const given = same ? `${name.toUpperCase()}${port}` : host;
        for (const protocol of ['http', 'https', 'capacitor', 'x', 'ab']) {
          if (serverOrigin(protocol, given) === origin) expect(mayBeSameOrigin(origin, given)).toBe(true);
        }
      }),
    );
  });

  it('is false for another host name, or without Host', () => {
    expect(mayBeSameOrigin('https://spa.example', 'id.example')).toBe(false);
    expect(mayBeSameOrigin('https://id.example.evil', 'id.example')).toBe(false);
    expect(mayBeSameOrigin('https://id.example', undefined)).toBe(false);
  });
});
