import { InvalidOriginError } from 'nest-identity-cors';
import { normalizeOrigin, parseRequestOrigin } from '../../lib/core/origin.js';
import { OriginPattern } from '../../lib/core/origin-pattern.js';

describe('normalizeOrigin (configured origins, RULES 1)', () => {
  it.each([
    ['https://foo:123', 'https://foo:123'],
    ['HTTPS://Foo.EXAMPLE.com', 'https://foo.example.com'],
    ['https://example.com:443', 'https://example.com'],
    ['http://example.com:80', 'http://example.com'],
    ['http://example.com:8080', 'http://example.com:8080'],
    ['https://bücher.example', 'https://xn--bcher-kva.example'],
    ['http://[::1]:3000', 'http://[::1]:3000'],
    ['http://127.0.0.1:4200', 'http://127.0.0.1:4200'],
    ['capacitor://localhost', 'capacitor://localhost'],
    ['null', 'null'],
  ])('%s is stored as %s', (input, expected) => {
    expect(normalizeOrigin(input)).toBe(expected);
  });

  it('names a URL given as an origin and says which origin was meant', () => {
    expect(() => normalizeOrigin('https://foo:123/')).toThrow("'https://foo:123/' is a URL, not an origin: use 'https://foo:123'");
    expect(() => normalizeOrigin('https://app.example.com/callback?x=1')).toThrow(
      "'https://app.example.com/callback?x=1' is a URL, not an origin: use 'https://app.example.com'",
    );
    expect(() => normalizeOrigin('https://app.example.com#frag')).toThrow("use 'https://app.example.com'");
  });

  it.each([
    ['', /'' is not an origin/],
    ['*', /use allowAnyOrigin\(\)/],
    ['foo.example.com', /is not an origin: an origin is scheme:\/\/host\[:port\]/],
    ['https://user:pw@example.com', /contains user info.*use 'https:\/\/example.com'/],
    [' https://example.com', /surrounding whitespace: use 'https:\/\/example.com'/],
    ['https://exa mple.com', /control, space or backslash/],
    ['https://example.com:99999', /cannot be parsed/],
    ['https://*.example.com', /subdomain pattern/],
    ['https://' + 'a'.repeat(400) + '.com', /longer than 300/],
  ])('rejects %j with a message naming it', (input, message) => {
    expect(() => normalizeOrigin(input)).toThrow(InvalidOriginError);
    expect(() => normalizeOrigin(input)).toThrow(message);
  });

  it('rejects non-strings', () => {
    expect(() => normalizeOrigin(42)).toThrow('42 is not an origin');
    expect(() => normalizeOrigin(undefined)).toThrow(InvalidOriginError);
  });
});

describe('parseRequestOrigin (request Origin header, RULES 3)', () => {
  it.each(['https://example.com', 'http://localhost:4200', 'https://xn--bcher-kva.example', 'null', 'http://[::1]:3000'])('accepts %s', (origin) => {
    expect(parseRequestOrigin(origin)).toBe(origin);
  });

  it.each([
    'https://example.com/',
    'HTTPS://example.com',
    'https://EXAMPLE.com',
    'https://example.com:443',
    'https://bücher.example',
    'https://example.com\t',
    'https://exa\nmple.com',
    'https://user@example.com',
    'https://*.example.com',
    'example.com',
    'Null',
    '',
    'https://example.com, https://other.com',
    'https://' + 'a'.repeat(300) + '.com',
  ])('rejects %j', (origin) => {
    expect(parseRequestOrigin(origin)).toBeUndefined();
  });

  it('rejects repeated and missing headers', () => {
    expect(parseRequestOrigin(['https://a.com', 'https://b.com'])).toBeUndefined();
    expect(parseRequestOrigin(undefined)).toBeUndefined();
  });
});

describe('OriginPattern (declared subdomain patterns)', () => {
  const pattern = OriginPattern.parse('https://*.example.com');

  it.each(['https://a.example.com', 'https://a.b.example.com', 'https://xn--bcher-kva.example.com'])('matches %s', (origin) => {
    expect(pattern.matches(origin)).toBe(true);
  });

  it.each([
    'https://example.com',
    'https://evilexample.com',
    'https://a.example.com.evil.com',
    'http://a.example.com',
    'https://a.example.com:8443',
    'https://a.example.co',
    'https://aexample.com',
  ])('does not match %s', (origin) => {
    expect(pattern.matches(origin)).toBe(false);
  });

  it('matches the port exactly', () => {
    const withPort = OriginPattern.parse('https://*.example.com:8443');
    expect(withPort.matches('https://a.example.com:8443')).toBe(true);
    expect(withPort.matches('https://a.example.com:18443')).toBe(false);
    expect(withPort.matches('https://a.example.com')).toBe(false);
  });

  it('normalizes the pattern', () => {
    expect(OriginPattern.parse('HTTPS://*.Example.COM:443').pattern).toBe('https://*.example.com');
  });

  it.each([
    ['https://*.example.com/', /use 'https:\/\/\*\.example\.com'/],
    ['https://a.*.example.com', /has a wildcard that is not its first label: use 'https:\/\/\*\.example\.com'/],
    ['https://*.*.example.com', /has more than one wildcard .*: use 'https:\/\/\*\.example\.com'/],
    ['https://*.127.0.0.1', /IP address/],
  ])('rejects %s', (input, message) => {
    expect(() => OriginPattern.parse(input)).toThrow(message);
  });
});
