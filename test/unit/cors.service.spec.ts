import { CorsPolicy, CorsPolicyBuilder, CorsPolicyError, CorsService, type CorsResult } from 'nest-identity-cors';
import { corsRequest, FakeResponse, preflight } from '../support/fake-http.js';

const service = new CorsService();
const build = (configure: (b: CorsPolicyBuilder) => unknown) => {
  const b = new CorsPolicyBuilder();
  configure(b);
  return b.build();
};
async function apply(request: ReturnType<typeof corsRequest>, policy: CorsPolicy, response = new FakeResponse()) {
  const result = await service.evaluatePolicy(request, policy);
  service.applyResult(result, response);
  return { result, response };
}
const get = (origin?: string) => corsRequest('GET', origin === undefined ? {} : { origin });

describe('CorsService.evaluatePolicy (after ASP.NET Core CorsService)', () => {
  const policy = build((b) => b.withOrigins('https://a.example', 'https://b.example'));

  it('denies a request without Origin, with an unlisted origin, and with an empty policy', async () => {
    expect((await service.evaluatePolicy(get(), policy)).isOriginAllowed).toBe(false);
    expect((await service.evaluatePolicy(get('https://c.example'), policy)).isOriginAllowed).toBe(false);
    expect((await service.evaluatePolicy(get('https://a.example'), new CorsPolicy())).isOriginAllowed).toBe(false);
  });

  it('reflects a listed origin and varies by Origin', async () => {
    const result = await service.evaluatePolicy(get('https://a.example'), policy);
    expect(result).toMatchObject<Partial<CorsResult>>({ isOriginAllowed: true, allowedOrigin: 'https://a.example', varyByOrigin: true, supportsCredentials: false });
  });

  it('answers * for any origin without credentials, and does not vary then', async () => {
    const result = await service.evaluatePolicy(get('https://x.example'), build((b) => b.allowAnyOrigin()));
    expect(result.allowedOrigin).toBe('*');
    expect(result.varyByOrigin).toBe(false);
  });

  it('refuses any origin with credentials when the policy is built (RULES 9)', () => {
    expect(() => build((b) => b.allowAnyOrigin().allowCredentials())).toThrow(CorsPolicyError);
    expect(() => new CorsPolicy({ origins: ['*'], supportsCredentials: true })).toThrow(/cannot allow any origin and credentials/);
  });

  it('rejects an invalid Origin before any predicate runs (RULES 3)', async () => {
    let calls = 0;
    const predicate = build((b) => b.setIsOriginAllowed(() => (calls++, true)));
    for (const origin of ['https://a.example/', 'HTTPS://A.EXAMPLE', 'x'.repeat(400), 'https://a.example\u0000']) {
      expect((await service.evaluatePolicy(get(origin), predicate)).isOriginAllowed).toBe(false);
    }
    expect(calls).toBe(0);
  });

  it('uses a sync or async predicate instead of the list', async () => {
    const sync = build((b) => b.withOrigins('https://listed.example').setIsOriginAllowed((o) => o.endsWith('.trusted.example')));
    expect((await service.evaluatePolicy(get('https://x.trusted.example'), sync)).isOriginAllowed).toBe(true);
    expect((await service.evaluatePolicy(get('https://listed.example'), sync)).isOriginAllowed).toBe(false);
    const async = build((b) => b.setIsOriginAllowed(async (o) => o === 'https://late.example'));
    expect((await service.evaluatePolicy(get('https://late.example'), async)).allowedOrigin).toBe('https://late.example');
  });

  it('matches declared subdomain patterns', async () => {
    const wildcard = build((b) => b.withOrigins('https://*.example.com').setIsOriginAllowedToAllowWildcardSubdomains());
    expect((await service.evaluatePolicy(get('https://a.example.com'), wildcard)).isOriginAllowed).toBe(true);
    expect((await service.evaluatePolicy(get('https://example.com'), wildcard)).isOriginAllowed).toBe(false);
  });

  describe('preflight', () => {
    it('reflects the requested method and headers for any-method/any-header policies, and varies on them', async () => {
      const anything = build((b) => b.withOrigins('https://a.example').allowAnyMethod().allowAnyHeader());
      const result = await service.evaluatePolicy(preflight('https://a.example', 'PUT', 'x-one, content-type'), anything);
      expect(result).toMatchObject({ isPreflightRequest: true, allowedMethods: ['PUT'], allowedHeaders: ['x-one', 'content-type'], varyByRequestMethod: true, varyByRequestHeaders: true });
    });

    it('returns the listed methods and headers otherwise', async () => {
      const listed = build((b) => b.withOrigins('https://a.example').withMethods('PUT', 'DELETE').withHeaders('X-Custom'));
      const result = await service.evaluatePolicy(preflight('https://a.example', 'PUT', 'x-custom'), listed);
      expect(result.allowedMethods).toEqual(['PUT', 'DELETE']);
      expect(result.allowedHeaders).toEqual(['X-Custom']);
      expect(result.varyByRequestMethod).toBe(false);
    });

    it('sends no headers when none are requested from an any-header policy', async () => {
      const result = await service.evaluatePolicy(preflight('https://a.example', 'GET'), build((b) => b.withOrigins('https://a.example').allowAnyHeader()));
      expect(result.allowedHeaders).toEqual([]);
    });

    it('refuses a preflight whose method or header list is malformed or too long, rather than reflecting it', async () => {
      const anything = build((b) => b.withOrigins('https://a.example').allowAnyMethod().allowAnyHeader());
      expect((await service.evaluatePolicy(preflight('https://a.example', 'GET\u00ff'), anything)).isOriginAllowed).toBe(false);
      expect((await service.evaluatePolicy(preflight('https://a.example', 'GET', 'x-ok, bad header'), anything)).isOriginAllowed).toBe(false);
      expect((await service.evaluatePolicy(preflight('https://a.example', 'GET', 'a,'.repeat(2000)), anything)).isOriginAllowed).toBe(false);
    });

    it('an OPTIONS request without Access-Control-Request-Method is an ordinary request (RULES 5)', async () => {
      const result = await service.evaluatePolicy(corsRequest('OPTIONS', { origin: 'https://a.example' }), policy);
      expect(result.isPreflightRequest).toBe(false);
    });
  });
});

describe('CorsService.evaluateOrigin (the middleware\'s entry, origin already parsed)', () => {
  const policy = build((b) => b.withOrigins('https://a.example').withMethods('GET', 'PUT').withHeaders('x-a'));

  it('gives what evaluatePolicy gives, for actual requests and preflights', async () => {
    for (const [request, isPreflight] of [
      [get('https://a.example'), false],
      [get('https://c.example'), false],
      [preflight('https://a.example', 'PUT', 'x-a'), true],
      [preflight('https://c.example', 'PUT'), true],
    ] as const) {
      const origin = String(request.headers.origin);
      expect(await service.evaluateOrigin(request, policy, origin, isPreflight)).toEqual(await service.evaluatePolicy(request, policy));
    }
  });
});

describe('CorsService.applyResult', () => {
  it('writes only Vary on a denial (RULES 7, 8)', async () => {
    const { response } = await apply(get('https://c.example'), build((b) => b.withOrigins('https://a.example')));
    expect([...response.headers.keys()]).toEqual(['vary']);
    expect(response.get('vary')).toBe('Origin');
  });

  it('writes origin, credentials and exposed headers on an actual request, but no preflight headers', async () => {
    const policy = build((b) => b.withOrigins('https://a.example').allowCredentials().withExposedHeaders('X-Total', 'ETag').withMethods('PUT').setPreflightMaxAge(30));
    const { response } = await apply(get('https://a.example'), policy);
    expect(response.get('access-control-allow-origin')).toBe('https://a.example');
    expect(response.get('access-control-allow-credentials')).toBe('true');
    expect(response.get('access-control-expose-headers')).toBe('X-Total,ETag');
    expect(response.get('access-control-allow-methods')).toBeUndefined();
    expect(response.get('access-control-max-age')).toBeUndefined();
  });

  it('applyAccessControl writes the same Access-Control-* headers, and no Vary', async () => {
    const policy = build((b) => b.withOrigins('https://a.example').allowCredentials().withExposedHeaders('X-Total'));
    const allowed = new FakeResponse();
    service.applyAccessControl(await service.evaluatePolicy(get('https://a.example'), policy), allowed);
    expect(Object.fromEntries(allowed.headers)).toEqual({
      'access-control-allow-origin': 'https://a.example',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'X-Total',
    });
    const denied = new FakeResponse();
    service.applyAccessControl(await service.evaluatePolicy(get('https://c.example'), policy), denied);
    expect(denied.headers.size).toBe(0);
  });

  it('writes methods, headers and max-age on a preflight, but no exposed headers', async () => {
    const policy = build((b) => b.withOrigins('https://a.example').withMethods('PUT', 'DELETE').withHeaders('X-A').withExposedHeaders('X-Total').setPreflightMaxAge(30));
    const { response } = await apply(preflight('https://a.example', 'PUT', 'x-a'), policy);
    expect(response.get('access-control-allow-methods')).toBe('PUT,DELETE');
    expect(response.get('access-control-allow-headers')).toBe('X-A');
    expect(response.get('access-control-max-age')).toBe('30');
    expect(response.get('access-control-expose-headers')).toBeUndefined();
    expect(response.get('access-control-allow-credentials')).toBeUndefined();
  });

  it('appends to an existing Vary, never replacing it, and never duplicates', async () => {
    const response = new FakeResponse();
    response.setHeader('Vary', 'Accept-Encoding, origin');
    await apply(preflight('https://a.example', 'PUT', 'x-a'), build((b) => b.withOrigins('https://a.example').allowAnyMethod().allowAnyHeader()), response);
    expect(response.get('vary')).toBe('Accept-Encoding, origin, Access-Control-Request-Method, Access-Control-Request-Headers');
    const star = new FakeResponse();
    star.setHeader('Vary', '*');
    await apply(get('https://c.example'), build((b) => b.withOrigins('https://a.example')), star);
    expect(star.get('vary')).toBe('*');
  });
});

describe('CorsPolicy validation', () => {
  it.each([
    [() => build((b) => b.withOrigins('https://foo:123/')), "'https://foo:123/' is a URL, not an origin: use 'https://foo:123'"],
    [() => build((b) => b.withMethods('GE T')), "'GE T' is not a valid method"],
    [() => build((b) => b.withHeaders('X-A\n')), 'is not a valid header name'],
    [() => build((b) => b.setPreflightMaxAge(-1)), 'preflightMaxAge -1 is not a whole number of seconds'],
    [() => build((b) => b.setPreflightMaxAge(1.5)), 'preflightMaxAge 1.5'],
  ])('%# throws a fix-it error', (make, message) => {
    expect(make).toThrow(message);
  });

  it('normalizes and de-duplicates origins and methods', () => {
    const policy = build((b) => b.withOrigins('HTTPS://A.example:443', 'https://a.example').withMethods('GET', 'get', 'POST'));
    expect(policy.origins).toEqual(['https://a.example']);
    expect(policy.methods).toEqual(['GET', 'POST']);
  });

  it('copies a policy through the builder and keeps its predicate', async () => {
    const original = build((b) => b.setIsOriginAllowed((o) => o === 'https://p.example').withExposedHeaders('X-A'));
    const copy = new CorsPolicyBuilder(original).allowCredentials().build();
    expect(await copy.isOriginAllowed('https://p.example')).toBe(true);
    expect(copy.exposedHeaders).toEqual(['X-A']);
    expect(copy.supportsCredentials).toBe(true);
  });

  it('disallowCredentials undoes allowCredentials', () => {
    expect(build((b) => b.allowAnyOrigin().allowCredentials().disallowCredentials()).supportsCredentials).toBe(false);
  });
});

describe('Access-Control-Request-Headers, parsed once per distinct value (memoized)', () => {
  const anyHeader = build((b) => b.withOrigins('https://a.example').allowAnyHeader());
  const requested = async (value: string) => {
    const result = await service.evaluatePolicy(preflight('https://a.example', 'GET', value), anyHeader);
    return [result.isOriginAllowed, result.allowedHeadersValue, result.allowedHeaders, result.varyByRequestHeaders];
  };

  it('answers each value as its own, the first time and again, malformed values included', async () => {
    const values = [' X-A ,  x-B ', 'X-A,x-b', '', ',,', 'bad header', 'X-C', 'é'];
    const expected = [
      [true, 'X-A,x-B', ['X-A', 'x-B'], true],
      [true, 'X-A,x-b', ['X-A', 'x-b'], true],
      [true, '', [], true],
      [true, '', [], true],
      [false, undefined, [], true],
      [true, 'X-C', ['X-C'], true],
      [false, undefined, [], true],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [i, value] of values.entries()) expect([value, await requested(value)]).toEqual([value, expected[i]]);
    }
  });

  it("gives results whose header lists cannot be changed (they are shared by every preflight with the value)", async () => {
    const result = await service.evaluatePolicy(preflight('https://a.example', 'GET', 'X-Shared'), anyHeader);
    expect(Object.isFrozen(result.allowedHeaders)).toBe(true);
  });
});
