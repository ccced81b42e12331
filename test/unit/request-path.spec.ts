import { requestPath } from '../../lib/core/request-path.js';

describe('requestPath', () => {
  it('is the request target up to the first ? or #, undecoded', () => {
    expect(requestPath({ url: '/connect/token' })).toBe('/connect/token');
    expect(requestPath({ url: '/connect/token?x=1#y' })).toBe('/connect/token');
    expect(requestPath({ url: '/connect/token#y?x=1' })).toBe('/connect/token');
    expect(requestPath({ url: '/a%20b?' })).toBe('/a%20b');
    expect(requestPath({ url: '?x' })).toBe('');
  });

  it('is / for a request without a target', () => {
    expect(requestPath({})).toBe('/');
  });
});
