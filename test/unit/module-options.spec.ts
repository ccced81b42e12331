import { CorsPolicy, IdentityCorsOptionsError, type CorsPolicyBuilder, type IdentityCorsModuleOptions } from 'nest-identity-cors';
import { DEFAULT_CORS_PATHS } from '../../lib/identity/cors-paths.js';
import { closestName, resolveOptions } from '../../lib/nest/identity-cors-options.validation.js';

function problemsOf(options: unknown): string[] {
  try {
    resolveOptions(options as IdentityCorsModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(IdentityCorsOptionsError);
    return [...(error as IdentityCorsOptionsError).problems];
  }
  return [];
}

/** Sets `path` (dotted) in a copy of `options` to `value`; `undefined` removes it. */
function withValue(options: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(options);
  const keys = path.split('.');
  let target = copy;
  for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
  if (value === undefined) delete target[keys.at(-1)!];
  else target[keys.at(-1)!] = value;
  return copy;
}

describe('contradictory identity options are refused, naming both and the fix (RULES 15)', () => {
  const clients = [{ clientId: 'spa', allowedCorsOrigins: ['https://spa.example'] }];
  it.each<[string, Record<string, unknown>, string, string]>([
    ['clients with allowedOrigins', { clients, allowedOrigins: ['https://a.example'] }, 'identity.allowedOrigins', 'identity.clients'],
    ['clients with allowAll', { clients, allowAll: true }, 'identity.allowAll', 'identity.clients'],
    ['clients with allowAll and allowedOrigins', { clients, allowAll: true, allowedOrigins: ['https://a.example'] }, 'identity.allowAll', 'identity.clients'],
    ['allowAll with allowedOrigins', { allowAll: true, allowedOrigins: ['https://a.example'] }, 'identity.allowAll', 'identity.allowedOrigins'],
  ])('%s', (_title, identity, first, second) => {
    const problems = problemsOf({ identity });
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) {
      expect(problem).toMatch(/are both set, and \w+ would win/);
    }
    expect(problems.join('\n')).toContain(first);
    expect(problems.join('\n')).toContain(second);
    // each fix ("remove X") applied alone gives accepted options
    for (const problem of problems) {
      const removed = /remove (?:identity\.)?(\w+)/.exec(problem)![1];
      const fixed = withValue({ identity }, `identity.${removed}`, undefined);
      expect(problemsOf(fixed).filter((p) => p === problem)).toEqual([]);
    }
  });

  it.each<[string, Record<string, unknown>]>([
    ['clients with an empty allowedOrigins', { clients, allowedOrigins: [] }],
    ['clients with allowAll: false', { clients, allowAll: false }],
    ['allowedOrigins with allowAll: false', { allowedOrigins: ['https://a.example'], allowAll: false }],
  ])('accepts %s', (_title, identity) => {
    expect(problemsOf({ identity })).toEqual([]);
  });
});

describe('option messages name the value and a fix that is itself accepted (RULES 16)', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['a misspelled identity option', { identity: { corsPath: ['/connect/token'] } }, 'corsPath'],
    ['a misspelled module option', { polices: {} }, 'polices'],
    ['a wrongly cased option', { identity: { allowall: true } }, 'allowall'],
    ['an identity option at the top level', { clients: [] }, 'clients'],
    ['a module option inside identity', { identity: { policies: {} } }, 'policies'],
  ])('%s', (_title, options, key) => {
    const [problem] = problemsOf(options);
    expect(problem).toContain(key);
    const fixedKey = /use '([^']*)'/.exec(problem)![1];
    const value = key in options ? options[key] : (options.identity as Record<string, unknown>)[key];
    const fixed = withValue(withValue(options, key in options ? key : `identity.${key}`, undefined), fixedKey, value);
    expect(problemsOf(fixed)).toEqual([]);
  });

  it('suggests nothing for a name close to no option', () => {
    const [problem] = problemsOf({ identity: { frobnicate: 1 } });
    expect(problem).toBe('identity.frobnicate is not an option: known options are corsPaths, corsPolicyName, preflightCacheDuration, clients, allowedOrigins, allowAll');
  });

  it.each([1.5, -5, Number.NaN, Number.POSITIVE_INFINITY, '600', null, 1e30])('identity.preflightCacheDuration %p', (value) => {
    const [problem] = problemsOf({ identity: { preflightCacheDuration: value } });
    expect(problem).toMatch(/^identity\.preflightCacheDuration .* is not a whole number of seconds ≥ 0: use \d+/);
    expect(problem).toContain(typeof value === 'string' ? `'${value}'` : String(value));
    const fix = Number(/use (\d+)/.exec(problem)![1]);
    expect(problemsOf({ identity: { preflightCacheDuration: fix } })).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['defaultPolicy', { defaultPolicy: 'partnr' }, "defaultPolicy 'partnr' names no policy: define it in policies (known: partner, admin); did you mean 'partner'?"],
    ['globalPolicy', { globalPolicy: 'Partner' }, "globalPolicy 'Partner' names no policy: define it in policies (known: partner, admin); did you mean 'partner'?"],
  ])('%s names a misspelled policy and the close one', (key, options, message) => {
    const policies = { partner: (b: { withOrigins(o: string): unknown }) => b.withOrigins('https://p.example'), admin: (b: { withOrigins(o: string): unknown }) => b.withOrigins('https://a.example') };
    expect(problemsOf({ policies, ...options })).toEqual([message]);
    expect(problemsOf({ policies, [key]: 'partner' })).toEqual([]);
  });

  it('suggests no policy when none is close', () => {
    expect(problemsOf({ policies: { partner: (b: { withOrigins(o: string): unknown }) => b.withOrigins('https://p.example') }, defaultPolicy: 'admin' })).toEqual([
      "defaultPolicy 'admin' names no policy: define it in policies (known: partner)",
    ]);
  });
});

describe('closestName', () => {
  it.each<[string, string[], string | undefined]>([
    ['partnr', ['partner', 'admin'], 'partner'],
    ['PARTNER', ['partner'], 'partner'],
    ['corsPath', ['corsPaths', 'corsPolicyName'], 'corsPaths'],
    ['ab', ['xy'], undefined],
    ['admin', ['partner'], undefined],
    ['a', ['b', 'c'], undefined],
  ])('%s among %j is %s', (name, known, expected) => {
    expect(closestName(name, known)).toBe(expected);
  });
});

describe('resolveOptions: what the module runs on', () => {
  const partner = (b: CorsPolicyBuilder) => b.withOrigins('HTTPS://Partner.example:443');

  it.each([['no options', undefined], ['empty options', {}]])('fills in the defaults for %s', (_title, options) => {
    const resolved = resolveOptions(options);
    expect(resolved.policies.size).toBe(0);
    expect(resolved.defaultPolicy).toBeUndefined();
    expect(resolved.globalPolicy).toBeUndefined();
    expect(resolved.policyTimeout).toBe(5000);
    expect(resolved.handleBeforeExpress).toBe(true);
    expect(resolved.identity.corsPaths.paths).toEqual(DEFAULT_CORS_PATHS);
    expect(resolved.identity.corsPolicyName).toBe('IdentityServer');
    expect(resolved.identity.preflightCacheDuration).toBeUndefined();
    expect(resolved.identity.clients).toBeUndefined();
    expect(resolved.identity.allowedOrigins).toEqual([]);
    expect(resolved.identity.allowAll).toBe(false);
  });

  it('builds each policy, from a builder callback or a CorsPolicy, with its origins normalized', () => {
    const given = new CorsPolicy({ origins: ['https://admin.example'] });
    const { policies } = resolveOptions({ policies: { partner, admin: given } });
    expect([...policies.keys()]).toEqual(['partner', 'admin']);
    expect(policies.get('partner')).toBeInstanceOf(CorsPolicy);
    expect(policies.get('partner')!.origins).toEqual(['https://partner.example']);
    expect(policies.get('admin')!.origins).toEqual(['https://admin.example']);
  });

  it('takes defaultPolicy by name (the policy itself) or as a definition', () => {
    const byName = resolveOptions({ policies: { partner }, defaultPolicy: 'partner' });
    expect(byName.defaultPolicy).toBe(byName.policies.get('partner'));
    const inline = resolveOptions({ defaultPolicy: (b) => b.withOrigins('https://inline.example') });
    expect(inline.defaultPolicy).toBeInstanceOf(CorsPolicy);
    expect(inline.defaultPolicy!.origins).toEqual(['https://inline.example']);
    expect(inline.policies.size).toBe(0);
  });

  it('resolves globalPolicy: true to the default policy, a name to that policy, false to none', () => {
    expect(resolveOptions({ defaultPolicy: partner, globalPolicy: true }).globalPolicy).toEqual({});
    expect(resolveOptions({ policies: { partner }, globalPolicy: 'partner' }).globalPolicy).toEqual({ name: 'partner' });
    // false is accepted at run time (a config flag), though the type leaves it out
    expect(resolveOptions({ policies: { partner }, globalPolicy: false as never }).globalPolicy).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['globalPolicy: true without a default policy', { globalPolicy: true }, 'globalPolicy: true applies the default policy, but no defaultPolicy is set: set defaultPolicy or name a policy'],
    ['globalPolicy of another type', { globalPolicy: 42 }, 'globalPolicy must be a policy name or true (got 42)'],
    ['a defaultPolicy that is no definition', { defaultPolicy: 42 }, 'defaultPolicy must be a CorsPolicy, a builder callback, or the name of one of policies'],
    ['a policy that is no definition', { policies: { partner: 'https://partner.example' } }, 'policies.partner must be a CorsPolicy or a builder callback (b) => b.withOrigins(...)'],
    ['an inline defaultPolicy the builder refuses', { defaultPolicy: (b: CorsPolicyBuilder) => b.allowAnyOrigin().allowCredentials() }, 'defaultPolicy: A policy cannot allow any origin and credentials'],
  ])('refuses %s, naming it', (_title, options, message) => {
    expect(problemsOf(options).join('\n')).toContain(message);
  });

  it('takes policyTimeout in whole milliseconds ≥ 1, refusing others with a fix that is accepted', () => {
    expect(resolveOptions({ policyTimeout: 50 }).policyTimeout).toBe(50);
    expect(resolveOptions({ policyTimeout: 1 }).policyTimeout).toBe(1);
    for (const value of [0, -1, 1.5, '50', Number.NaN]) {
      const problems = problemsOf({ policyTimeout: value });
      expect(problems.length).toBeGreaterThan(0);
      for (const problem of problems) expect(problem).toMatch(/^policyTimeout must be (a whole number of milliseconds|at least 1 ms) \(got .*\): use e\.g\. 5000$/);
    }
    expect(problemsOf({ policyTimeout: 5000 })).toEqual([]);
  });

  it('takes handleBeforeExpress true or false only', () => {
    expect(resolveOptions({ handleBeforeExpress: false }).handleBeforeExpress).toBe(false);
    expect(resolveOptions({ handleBeforeExpress: true }).handleBeforeExpress).toBe(true);
    expect(problemsOf({ handleBeforeExpress: 'yes' })).toEqual(['handleBeforeExpress must be true or false (got yes): false handles CORS in Express, after earlier middleware']);
  });

  it('normalizes identity.allowedOrigins and takes custom corsPaths and corsPolicyName', () => {
    const { identity } = resolveOptions({ identity: { allowedOrigins: ['HTTPS://SPA.example:443'], corsPaths: ['/oauth/token'], corsPolicyName: 'Identity', preflightCacheDuration: 600 } });
    expect(identity.allowedOrigins).toEqual(['https://spa.example']);
    expect(identity.corsPaths.has('/oauth/token')).toBe(true);
    expect(identity.corsPaths.has('/connect/token')).toBe(false);
    expect(identity.corsPolicyName).toBe('Identity');
    expect(identity.preflightCacheDuration).toBe(600);
  });
});
