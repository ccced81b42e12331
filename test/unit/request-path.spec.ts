import { createRequire } from 'node:module';
import fc from 'fast-check';
import { requestPath } from '../../lib/core/request-path.js';

// The function router@2 (Express 5) takes the routed path from: requestPath must agree with it on every target.
const parseurl = createRequire(import.meta.url)('parseurl') as (req: { url?: string }) => { pathname?: string | null } | undefined;
function routedPath(url: string | undefined): string | undefined {
  try {
    return parseurl({ url })?.pathname ?? undefined;
  } catch {
    return undefined;
  }
}

describe('requestPath', () => {
  it('is the request target up to the first ?, undecoded', () => {
    expect(requestPath({ url: '/connect/token' })).toBe('/connect/token');
    expect(requestPath({ url: '/connect/token?x=1#y' })).toBe('/connect/token');
    expect(requestPath({ url: '/connect/token#y?x=1' })).toBe('/connect/token');
    expect(requestPath({ url: '/a%20b?' })).toBe('/a%20b');
    expect(requestPath({ url: '/a\\b' })).toBe('/a\\b');
  });

  it('is the pathname of an absolute-form target, as the router routes it', () => {
    expect(requestPath({ url: 'http://host/internal' })).toBe('/internal');
    expect(requestPath({ url: 'https://host:8443/connect/token?x=/y' })).toBe('/connect/token');
    expect(requestPath({ url: 'http://host' })).toBe('/');
    expect(requestPath({ url: '*' })).toBe('*');
  });

  it('is undefined where the router finds no path', () => {
    expect(requestPath({})).toBeUndefined();
    expect(requestPath({ url: '?x' })).toBeUndefined();
    expect(requestPath({ url: 'http:' })).toBeUndefined();
  });

  it.each([
    '/a b', '/a\tb?c', '/a\\b#c', '/x?y#z', '//double/slash', '/%zz', 'HTTP://HOST/Internal/', 'http://h/a\\b',
    '/caf\u00e9', '/a\u00a0b', 'http://user:pw@host:1/p?q', '/connect%2Ftoken', '/connect/%2e%2e/token', 'x/y', '',
  ])('agrees with parseurl, which Express routes with: %j', (url) => {
    expect(requestPath({ url })).toBe(routedPath(url));
  });

  it('agrees with parseurl on any target', () => {
    const part = fc.constantFrom('/', '?', '#', ' ', '\t', '\\', '%', 'a', 'A', '.', ':', '@', '*', '\u00a0', 'http://', 'https://h', '//');
    fc.assert(
      fc.property(fc.array(part, { maxLength: 12 }).map((parts) => parts.join('')), (url) => requestPath({ url }) === routedPath(url)),
      { numRuns: 3000 },
    );
  });
});
