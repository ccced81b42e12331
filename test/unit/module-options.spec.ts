import { IdentityCorsOptionsError, type IdentityCorsModuleOptions } from 'nest-identity-cors';
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

describe('contradictory identity options are refused, naming both and the fix (issue 14, item 7)', () => {
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

describe('option messages name the value and a fix that is itself accepted (issue 14, item 8)', () => {
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
