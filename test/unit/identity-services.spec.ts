import type { IncomingMessage } from 'node:http';
import { CorsPolicy, DefaultCorsPolicyService, InMemoryClientStore, InMemoryCorsPolicyService, type ICorsPolicyProvider, type ICorsPolicyService } from 'nest-identity-cors';
import { IdentityCorsPolicyProvider } from '../../lib/identity/identity-cors-policy.provider.js';
import { CorsPathSet } from '../../lib/identity/cors-paths.js';
import { CaptureLogger } from '../support/capture-logger.js';

describe('DefaultCorsPolicyService (IdentityServer DefaultCorsPolicyServiceTests)', () => {
  let logger: CaptureLogger;
  let subject: DefaultCorsPolicyService;
  beforeEach(() => {
    logger = new CaptureLogger();
    subject = new DefaultCorsPolicyService(logger);
  });

  it('denies null, empty and blank origins', async () => {
    expect(await subject.isOriginAllowed(null as unknown as string)).toBe(false);
    expect(await subject.isOriginAllowed('')).toBe(false);
    expect(await subject.isOriginAllowed('    ')).toBe(false);
  });

  it('denies everything by default', async () => {
    expect(await subject.isOriginAllowed('http://foo')).toBe(false);
  });

  it('allows an added origin and no other', async () => {
    subject.allowedOrigins.add('http://foo');
    expect(await subject.isOriginAllowed('http://foo')).toBe(true);
    expect(await subject.isOriginAllowed('http://bar')).toBe(false);
  });

  it('allows an origin in a list, and not one outside it', async () => {
    subject.allowedOrigins.add('http://foo');
    subject.allowedOrigins.add('http://bar');
    subject.allowedOrigins.add('http://baz');
    expect(await subject.isOriginAllowed('http://bar')).toBe(true);
    expect(await subject.isOriginAllowed('http://quux')).toBe(false);
  });

  it('allows all with allowAll, and warns that it is to be used with caution', async () => {
    subject.allowAll = true;
    expect(await subject.isOriginAllowed('http://foo')).toBe(true);
    expect(logger.at('warn').join()).toMatch(/allowAll is true.*Use with caution/);
  });

  it('is constructible as in the reference: a logger and an allow-list', async () => {
    const service = new DefaultCorsPolicyService(logger, { allowedOrigins: ['https://foo', 'https://bar'] });
    expect(await service.isOriginAllowed('https://bar')).toBe(true);
    const assigned = Object.assign(new DefaultCorsPolicyService(logger), { allowedOrigins: ['https://foo'] });
    expect(await assigned.isOriginAllowed('https://foo')).toBe(true);
  });

  it('validates and normalizes what is added', async () => {
    expect(() => subject.allowedOrigins.add('https://foo:123/')).toThrow("'https://foo:123/' is a URL, not an origin: use 'https://foo:123'");
    subject.allowedOrigins.add('HTTPS://Foo.example:443');
    expect([...subject.allowedOrigins]).toEqual(['https://foo.example']);
    expect(await subject.isOriginAllowed('https://foo.example')).toBe(true);
  });

  it('compares exactly: no prefix, suffix or case tricks, and null only if listed', async () => {
    subject.allowedOrigins.add('https://foo.example');
    for (const origin of ['https://foo.example.evil', 'https://foo.example/', 'HTTPS://FOO.EXAMPLE', 'https://xfoo.example', 'null']) {
      expect(await subject.isOriginAllowed(origin)).toBe(false);
    }
    subject.allowAll = true;
    expect(await subject.isOriginAllowed('null')).toBe(false);
    subject.allowedOrigins.add('null');
    expect(await subject.isOriginAllowed('null')).toBe(true);
  });

  it('logs nothing per decision, allowed or denied (the handler logs denials, RULES 21)', async () => {
    subject.allowedOrigins.add('https://yes.example');
    expect(await subject.isOriginAllowed('https://yes.example')).toBe(true);
    await subject.isOriginAllowed('https://nope.example');
    await subject.isOriginAllowed('not an origin');
    expect(logger.lines).toEqual([]);
  });
});

/**
 * Runs `action` counting keyed lookups (Map/Set get and has) and scans (iterating a Map, Set or Array)
 * made while it runs: an index decides with one lookup and no scan, whatever the number of entries.
 */
function countCollectionCalls<T>(action: () => T): { answer: T; lookups: number; scans: number } {
  let lookups = 0;
  let scans = 0;
  const restore: Array<() => void> = [];
  const wrap = (proto: object, key: PropertyKey, onCall: () => void) => {
    const original = Reflect.get(proto, key) as (...args: unknown[]) => unknown;
    Reflect.set(proto, key, function (this: unknown, ...args: unknown[]) {
      onCall();
      return original.apply(this, args);
    });
    restore.push(() => Reflect.set(proto, key, original));
  };
  for (const proto of [Map.prototype, Set.prototype]) {
    for (const key of ['get', 'has']) if (key in proto) wrap(proto, key, () => lookups++);
    for (const key of ['forEach', 'keys', 'values', 'entries', Symbol.iterator]) wrap(proto, key, () => scans++);
  }
  for (const key of ['forEach', 'some', 'every', 'find', 'findIndex', 'filter', 'map', 'includes', 'indexOf', 'reduce', 'values', 'entries', Symbol.iterator]) {
    wrap(Array.prototype, key, () => scans++);
  }
  try {
    return { answer: action(), lookups, scans };
  } finally {
    for (const undo of restore.reverse()) undo();
  }
}

describe('InMemoryClientStore and InMemoryCorsPolicyService', () => {
  it('allows origins of enabled clients only', async () => {
    const service = new InMemoryCorsPolicyService([
      { clientId: 'spa', allowedCorsOrigins: ['https://spa.example'] },
      { clientId: 'old', allowedCorsOrigins: ['https://old.example'], enabled: false },
    ]);
    expect(await service.isOriginAllowed('https://spa.example')).toBe(true);
    expect(await service.isOriginAllowed('https://old.example')).toBe(false);
    expect(await service.isOriginAllowed('https://other.example')).toBe(false);
  });

  it('keeps the index right when clients share origins, change, are disabled or removed', () => {
    const store = new InMemoryClientStore([
      { clientId: 'a', allowedCorsOrigins: ['https://shared.example', 'https://a.example'] },
      { clientId: 'b', allowedCorsOrigins: ['https://shared.example'] },
    ]);
    store.removeClient('a');
    expect(store.isOriginAllowed('https://shared.example')).toBe(true);
    expect(store.isOriginAllowed('https://a.example')).toBe(false);
    store.upsertClient({ clientId: 'b', allowedCorsOrigins: ['https://shared.example'], enabled: false });
    expect(store.isOriginAllowed('https://shared.example')).toBe(false);
    store.upsertClient({ clientId: 'b', allowedCorsOrigins: ['HTTPS://B.example'] });
    expect(store.isOriginAllowed('https://b.example')).toBe(true);
    expect(store.findClientById('b')?.allowedCorsOrigins).toEqual(['https://b.example']);
    expect(store.removeClient('missing')).toBe(false);
  });

  it('rejects bad client origins naming the client and the fix, and duplicate ids', () => {
    expect(() => new InMemoryClientStore([{ clientId: 'spa', allowedCorsOrigins: ['https://foo:123/'] }])).toThrow(
      "client 'spa': allowedCorsOrigins[0] 'https://foo:123/' is a URL, not an origin: use 'https://foo:123'",
    );
    expect(() => new InMemoryClientStore([{ clientId: 'x', allowedCorsOrigins: [] }, { clientId: 'x', allowedCorsOrigins: [] }])).toThrow(/configured twice/);
  });

  it('looks up in an index: one keyed lookup and no scan per decision, with 100,000 clients as with 3', async () => {
    const clients = Array.from({ length: 100_000 }, (_, i) => ({ clientId: `c${i}`, allowedCorsOrigins: [`https://app${i}.example`] }));
    const service = new InMemoryCorsPolicyService(clients);
    expect(service.store.size).toBe(100_000);
    expect(await service.isOriginAllowed('https://app99999.example')).toBe(true);
    expect(await service.isOriginAllowed('https://app100000.example')).toBe(false);
    const small = new InMemoryClientStore(clients.slice(0, 3));
    for (const [store, origin, allowed] of [
      [service.store, 'https://app99999.example', true],
      [service.store, 'https://app100000.example', false],
      [small, 'https://app2.example', true],
      [small, 'https://app3.example', false],
    ] as const) {
      const { answer, lookups, scans } = countCollectionCalls(() => store.isOriginAllowed(origin));
      expect(answer).toBe(allowed);
      expect(lookups).toBe(1);
      expect(scans).toBe(0);
    }
  });
});

/** Replays IdentityServer's CorsPolicyProvider tests against the decorating provider. */
describe('IdentityCorsPolicyProvider (IdentityServer PolicyProviderTests)', () => {
  class MockService implements ICorsPolicyService {
    wasCalled = false;
    allowed = true;
    async isOriginAllowed() {
      this.wasCalled = true;
      return this.allowed;
    }
  }
  class MockInner implements ICorsPolicyProvider {
    wasCalled = false;
    names: Array<string | undefined> = [];
    async getPolicy(_req: IncomingMessage, name?: string) {
      this.wasCalled = true;
      this.names.push(name);
      return new CorsPolicy({ origins: ['https://inner.example'] });
    }
  }
  let service: MockService;
  let inner: MockInner;
  const subject = (paths: string[], preflightCacheDuration?: number) =>
    new IdentityCorsPolicyProvider({ corsPolicyName: 'IdentityServer', corsPaths: new CorsPathSet(paths), preflightCacheDuration }, service, inner);
  const request = (path: string, origin: string, protocol = 'https') => ({ url: path, headers: { origin, host: 'server' }, protocol }) as unknown as IncomingMessage;

  beforeEach(() => {
    service = new MockService();
    inner = new MockInner();
  });

  it.each(['/foo', '/bar/', '/baz/quux', '/baz/quux/'])('valid path %s calls the policy service', async (path) => {
    await subject(['/foo', '/bar/', '/baz/quux', '/baz/quux/']).getPolicy(request(path, 'http://notserver'), 'IdentityServer');
    expect(service.wasCalled).toBe(true);
    expect(inner.wasCalled).toBe(false);
  });

  it.each(['/xoxo', '/xoxo/', '/foo/xoxo', '/baz/quux/xoxo'])('other path %s calls neither', async (path) => {
    expect(await subject(['/foo', '/bar', '/baz/quux']).getPolicy(request(path, 'http://notserver'), 'IdentityServer')).toBeUndefined();
    expect(service.wasCalled).toBe(false);
    expect(inner.wasCalled).toBe(false);
  });

  it('compares paths as the router does: case-insensitive, one trailing slash ignored (a deliberate deviation)', async () => {
    await subject(['/foo']).getPolicy(request('/FOO/', 'http://notserver'), 'IdentityServer');
    expect(service.wasCalled).toBe(true);
  });

  it('a different policy name goes to the inner provider unchanged', async () => {
    const policy = await subject(['/foo']).getPolicy(request('/foo', 'http://notserver'), 'wrong_name');
    expect(service.wasCalled).toBe(false);
    expect(inner.names).toEqual(['wrong_name']);
    expect(policy?.origins).toEqual(['https://inner.example']);
    await subject(['/foo']).getPolicy(request('/foo', 'http://notserver'));
    expect(inner.names).toEqual(['wrong_name', undefined]);
  });

  it('the server origin itself does not call the service', async () => {
    expect(await subject(['/foo']).getPolicy(request('/foo', 'https://server'), 'IdentityServer')).toBeUndefined();
    expect(service.wasCalled).toBe(false);
    expect(inner.wasCalled).toBe(false);
  });

  it.each(['https://notserver', 'http://server'])('origin %s (not the server) calls the service', async (origin) => {
    await subject(['/foo']).getPolicy(request('/foo', origin), 'IdentityServer');
    expect(service.wasCalled).toBe(true);
    expect(inner.wasCalled).toBe(false);
  });

  it('an allowed origin gets exactly its origin, any method and header, no credentials, exposed OIDC headers and max-age (RULES 11)', async () => {
    const policy = (await subject(['/foo'], 600).getPolicy(request('/foo', 'https://spa.example'), 'IdentityServer'))!;
    expect(policy.origins).toEqual(['https://spa.example']);
    expect(policy.allowAnyMethod && policy.allowAnyHeader).toBe(true);
    expect(policy.supportsCredentials).toBe(false);
    expect(policy.exposedHeaders).toEqual(['WWW-Authenticate', 'DPoP-Nonce']);
    expect(policy.preflightMaxAge).toBe(600);
    expect(policy.isOriginAllowed('https://other.example')).toBe(false);
  });

  it('a denied origin gets no policy', async () => {
    service.allowed = false;
    expect(await subject(['/foo']).getPolicy(request('/foo', 'https://spa.example'), 'IdentityServer')).toBeUndefined();
  });
});
