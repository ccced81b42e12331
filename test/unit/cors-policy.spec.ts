import { CorsPolicy, CorsPolicyBuilder, CorsPolicyError, InvalidOriginError } from 'nest-identity-cors';

type Setup = (b: CorsPolicyBuilder, values: unknown[]) => unknown;
const origins: Setup = (b, values) => b.withOrigins(...(values as string[]));
const credentialedOrigins: Setup = (b, values) => b.withOrigins(...(values as string[])).allowCredentials();
const methods: Setup = (b, values) => b.withMethods(...(values as string[]));
const headers: Setup = (b, values) => b.withHeaders(...(values as string[]));
const maxAge: Setup = (b, values) => b.setPreflightMaxAge(values[0] as number);

function build(setup: Setup, values: unknown[], then?: (b: CorsPolicyBuilder) => unknown): CorsPolicy {
  const builder = new CorsPolicyBuilder();
  setup(builder, values);
  then?.(builder);
  return builder.build();
}

function messageOf(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    expect(error instanceof CorsPolicyError || error instanceof InvalidOriginError).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

/**
 * The fix a message suggests, applied: `use 'X'` replaces the bad value with X, `remove 'X'` drops it,
 * a builder method it names (allowAnyOrigin(), disallowCredentials(), …) is called after the setup.
 */
function applyFix(message: string, setup: Setup, values: unknown[], bad: unknown): CorsPolicy {
  const use = /\buse '([^']*)'/.exec(message);
  if (use) return build(setup, values.map((value) => (Object.is(value, bad) ? use[1] : value)));
  const useNumber = /\buse (\d+)\b/.exec(message);
  if (useNumber) return build(setup, values.map((value) => (Object.is(value, bad) ? Number(useNumber[1]) : value)));
  const remove = /\bremove '([^']*)'/.exec(message);
  if (remove) return build(setup, values.filter((value) => value !== remove[1]));
  const method = /\b(allowAnyOrigin|allowAnyMethod|allowAnyHeader|disallowCredentials)\(\)/.exec(message);
  if (method) return build(setup, values, (b) => b[method[1] as 'allowAnyOrigin']());
  throw new Error(`no fix found in: ${message}`);
}

describe('a refused policy names the bad value and a fix that is itself accepted', () => {
  it.each<[string, Setup, unknown[], unknown]>([
    // public suffixes, ICANN and private sections (RULES 2)
    ['a pattern under a TLD', origins, ['https://*.com'], 'https://*.com'],
    ['a pattern under a two-label ICANN suffix', origins, ['https://*.co.uk'], 'https://*.co.uk'],
    ['a pattern under a private-section suffix', origins, ['https://*.github.io'], 'https://*.github.io'],
    ['a pattern under a hosting suffix, with a port', origins, ['http://*.herokuapp.com:8080'], 'http://*.herokuapp.com:8080'],
    ['a pattern under a wildcard-rule suffix', origins, ['https://*.s3.amazonaws.com'], 'https://*.s3.amazonaws.com'],
    ['a pattern under an unlisted single label', origins, ['https://*.internal'], 'https://*.internal'],
    ['a pattern under an IDN TLD', origins, ['https://*.рф'], 'https://*.рф'],
    ['a pattern under a TLD written fully qualified', origins, ['https://*.com.'], 'https://*.com.'],
    ['a pattern under a TLD in capitals', origins, ['HTTPS://*.CO.UK'], 'HTTPS://*.CO.UK'],
    // '*' that is not alone
    ["'*' among origins", origins, ['*', 'https://a.example'], '*'],
    ["'*' after origins", origins, ['https://a.example', '*'], '*'],
    ["'*' among origins, with credentials", credentialedOrigins, ['*', 'https://a.example'], '*'],
    ["'*' among methods", methods, ['GET', '*'], '*'],
    ["'*' among headers", headers, ['*', 'X-A'], '*'],
    // 'null' with credentials
    ["'null' with credentials", credentialedOrigins, ['null'], 'null'],
    ["'null' beside an origin, with credentials", credentialedOrigins, ['https://a.example', 'null'], 'null'],
    // blank and padded entries (item 8)
    ['a blank origin', origins, ['   '], '   '],
    ['a tab', origins, ['\t'], '\t'],
    ['an empty origin', origins, [''], ''],
    ['a padded origin', origins, [' https://a.example '], ' https://a.example '],
    ['a padded pattern', origins, [' https://*.example.com'], ' https://*.example.com'],
    ['a padded URL', origins, ['https://a.example/path '], 'https://a.example/path '],
    // bad patterns
    ['a wildcard with no domain', origins, ['https://*'], 'https://*'],
    ['a wildcard with no domain, with a port', origins, ['https://*:8443'], 'https://*:8443'],
    ["nothing after '*.'", origins, ['https://*.'], 'https://*.'],
    ['two wildcards', origins, ['https://*.*.example.com'], 'https://*.*.example.com'],
    ['a wildcard in a middle label', origins, ['https://a.*.example.com'], 'https://a.*.example.com'],
    ['a wildcard as the last label', origins, ['https://example.*'], 'https://example.*'],
    ['a pattern without a scheme', origins, ['*.example.com'], '*.example.com'],
    ['a wildcard inside a label', origins, ['https://*example.com'], 'https://*example.com'],
    ['a wildcard port', origins, ['https://*.example.com:*'], 'https://*.example.com:*'],
    ['a pattern with a path', origins, ['https://*.example.com/app'], 'https://*.example.com/app'],
    ['a pattern in front of an IP address', origins, ['https://*.10.0.0.1'], 'https://*.10.0.0.1'],
    ['an origin without a scheme', origins, ['app.example.com'], 'app.example.com'],
    ['a loopback host and port without a scheme', origins, ['localhost:4200'], 'localhost:4200'],
    ["'null' in capitals", origins, ['NULL'], 'NULL'],
    // max-age
    ['a fractional max-age', maxAge, [1.5], 1.5],
    ['a negative max-age', maxAge, [-1], -1],
    ['NaN', maxAge, [Number.NaN], Number.NaN],
    ['Infinity', maxAge, [Number.POSITIVE_INFINITY], Number.POSITIVE_INFINITY],
    ['a max-age given as a string', maxAge, ['600'], '600'],
    ['an unsafe integer', maxAge, [1e30], 1e30],
  ])('%s', (_title, setup, values, bad) => {
    const message = messageOf(() => build(setup, values));
    expect(message).toContain(typeof bad === 'string' ? `'${bad}'` : String(bad));
    expect(applyFix(message, setup, values, bad)).toBeInstanceOf(CorsPolicy);
  });
});

describe('CorsPolicyInit is checked as the builder is', () => {
  it.each<[string, ConstructorParameters<typeof CorsPolicy>[0], RegExp]>([
    ["'*' among origins", { origins: ['*', 'https://a.example'] }, /use allowAnyOrigin\(\) alone \(origins: \['\*'\]\)/],
    ["'*' among methods", { methods: ['*', 'GET'] }, /use allowAnyMethod\(\) alone \(methods: \['\*'\]\)/],
    ["'*' among headers", { headers: ['X-A', '*'] }, /use allowAnyHeader\(\) alone \(headers: \['\*'\]\)/],
    ["'null' with credentials", { origins: ['null'], supportsCredentials: true }, /remove 'null'/],
    ['a public-suffix pattern', { origins: ['https://*.co.uk'] }, /public suffix 'co\.uk'/],
    ['a fractional max-age', { preflightMaxAge: 0.5 }, /preflightMaxAge 0\.5 is not a whole number of seconds ≥ 0: use 1/],
    ['a predicate allowing everything, with credentials', { isOriginAllowed: () => true, supportsCredentials: true }, /allowed 'https:\/\/cors-canary\.invalid'/],
    ['a predicate allowing every https origin, with credentials', { isOriginAllowed: (o) => o.startsWith('https://'), supportsCredentials: true }, /allowed 'https:\/\/cors-canary\.invalid'/],
    ['a predicate answering truthy non-booleans, with credentials', { isOriginAllowed: () => 1 as unknown as boolean, supportsCredentials: true }, /isOriginAllowed predicate/],
  ])('%s', (_title, init, message) => {
    expect(() => new CorsPolicy(init)).toThrow(message);
  });
});

describe('patterns and predicates that stay accepted', () => {
  it.each(['https://*.example.com', 'https://*.example.co.uk', 'https://*.alice.github.io', 'http://*.localhost:4200', 'http://*.localhost.', 'https://*.corp.internal'])('%s', (pattern) => {
    expect(build(origins, [pattern]).origins).toEqual([pattern]);
  });

  it("'*' alone is any origin, method or header", () => {
    const policy = new CorsPolicy({ origins: ['*'], methods: ['*'], headers: ['*'] });
    expect([policy.allowAnyOrigin, policy.allowAnyMethod, policy.allowAnyHeader]).toEqual([true, true, true]);
  });

  it("'null' without credentials is allowed when listed", async () => {
    expect(await build(origins, ['null']).isOriginAllowed('null')).toBe(true);
  });

  it('a predicate that allows only its own origins may allow credentials', async () => {
    const policy = build(origins, [], (b) => b.setIsOriginAllowed((origin) => origin.endsWith('.example.com')).allowCredentials());
    expect(await policy.isOriginAllowed('https://a.example.com')).toBe(true);
    expect(await policy.probeCredentialedPredicate()).toBeUndefined();
  });

  it('a predicate that allows everything, with credentials, is refused; the fix it names (disallowCredentials()) is accepted', () => {
    const setup: Setup = (b) => b.setIsOriginAllowed((origin) => origin !== 'https://blocked.example').allowCredentials();
    const message = messageOf(() => build(setup, []));
    expect(message).toMatch(/allowed 'https:\/\/cors-canary\.invalid'/);
    expect(applyFix(message, setup, [], undefined).supportsCredentials).toBe(false);
  });

  it('a predicate that allows everything is accepted without credentials', () => {
    expect(build(origins, [], (b) => b.setIsOriginAllowed(() => true)).supportsCredentials).toBe(false);
  });

  it('an async predicate cannot be probed when built; probeCredentialedPredicate finds it', async () => {
    const policy = build(origins, [], (b) => b.setIsOriginAllowed(async () => true).allowCredentials());
    expect(await policy.probeCredentialedPredicate()).toMatch(/allowed 'https:\/\/cors-canary\.invalid'.*disallowCredentials\(\)/);
  });

  it('a predicate that throws on the canary counts as denying it', async () => {
    const policy = build(origins, [], (b) =>
      b.setIsOriginAllowed((origin) => {
        if (origin.endsWith('.invalid')) throw new Error('unknown');
        return true;
      }).allowCredentials(),
    );
    expect(await policy.probeCredentialedPredicate()).toBeUndefined();
  });
});

describe('a credentialed async predicate and the origins no site uses (RULES 9)', () => {
  const credentialed = (predicate: (origin: string) => boolean | Promise<boolean>) => new CorsPolicyBuilder().setIsOriginAllowed(predicate).allowCredentials().build();

  it('allows nothing once it has allowed such an origin: every answer is a failure naming it', async () => {
    const policy = credentialed(async () => true);
    for (const origin of ['https://evil.example', 'https://app.example']) {
      await expect(policy.isOriginAllowed(origin)).rejects.toThrow(/isOriginAllowed predicate that allowed 'https:\/\/cors-canary\.invalid'/);
    }
  });

  it('is asked at the startup probe, not judged by what it answered while the policy was built (its settings may load later)', async () => {
    let settings: { allowAny: boolean } | undefined;
    const asked: string[] = [];
    const policy = credentialed(async (origin) => (asked.push(origin), settings!.allowAny || origin === 'https://app.example'));
    settings = { allowAny: true };
    expect(await policy.probeCredentialedPredicate()).toMatch(/allowed 'https:\/\/cors-canary\.invalid'/);
    expect(asked.filter((origin) => origin.includes('cors-canary')).length).toBe(4);
    await expect(policy.isOriginAllowed('https://app.example')).rejects.toThrow(CorsPolicyError);
  });

  it('answers directly once it has said no to them, with the predicate\'s own answer', async () => {
    const answers = new Map<string, Promise<boolean>>();
    const policy = credentialed((origin) => {
      const answer = Promise.resolve(origin === 'https://app.example');
      answers.set(origin, answer);
      return answer;
    });
    expect(await policy.isOriginAllowed('https://app.example')).toBe(true);
    expect(await policy.isOriginAllowed('https://evil.example')).toBe(false);
    expect(policy.isOriginAllowed('https://app.example')).toBe(answers.get('https://app.example'));
    expect(await policy.probeCredentialedPredicate()).toBeUndefined();
  });

  it('a predicate that fails about them denies them (as one that says no)', async () => {
    const policy = credentialed(async (origin) => {
      if (origin.includes('cors-canary')) throw new Error('lookup failed');
      return origin === 'https://app.example';
    });
    expect(await policy.isOriginAllowed('https://app.example')).toBe(true);
  });
});
