import fc from 'fast-check';
import { Memo, ownCopy } from '../../lib/core/memo.js';

describe('Memo (the bounded memo of the per-request lookups)', () => {
  it('answers what was set, and nothing for a key never set', () => {
    const memo = new Memo<number>(2);
    memo.set('a', 1);
    expect(memo.get('a')).toBe(1);
    expect(memo.get('b')).toBeUndefined();
  });

  it('holds at most its bound, dropping the oldest entry first', () => {
    const memo = new Memo<number>(3);
    for (let i = 0; i < 10; i++) memo.set(`k${i}`, i);
    expect(memo.size).toBe(3);
    expect(['k6', 'k7', 'k8', 'k9'].map((key) => memo.get(key))).toEqual([undefined, 7, 8, 9]);
  });

  it('replaces the value of a key it holds without dropping another', () => {
    const memo = new Memo<number>(2);
    memo.set('a', 1);
    memo.set('b', 2);
    memo.set('a', 3);
    expect([memo.get('a'), memo.get('b'), memo.size]).toEqual([3, 2, 2]);
  });

  it('forgets everything on clear', () => {
    const memo = new Memo<number>(2);
    memo.set('a', 1);
    memo.clear();
    expect([memo.get('a'), memo.size]).toEqual([undefined, 0]);
  });
});

describe('Memo: the recent keys it compares before its Map', () => {
  it('answers as a bounded Map that drops its oldest entry first, whatever the order of sets, gets and clears', () => {
    // Few distinct keys, so that keys come back while in the recent slots, after leaving them, and after being dropped;
    // each of two characters or more (V8 shares one string per single character), some that only an exact copy keeps.
    const key = fc.constantFrom('ab', 'ba', 'abc', 'https://app.example.test', '/connect/userinfo', '', '\uD800x', 'x\uDC00', '"\\', '\u2028', 'k'.repeat(2048));
    const op = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('set' as const), key, value: fc.integer() }), weight: 10 },
      { arbitrary: fc.record({ kind: fc.constant('get' as const), key }), weight: 10 },
      { arbitrary: fc.record({ kind: fc.constant('clear' as const) }), weight: 1 },
    );
    fc.assert(
      // ownKeys: keys held as given (the caller's own copies) rather than copied: the same answers either way.
      fc.property(fc.integer({ min: 1, max: 6 }), fc.boolean(), fc.array(op, { minLength: 20, maxLength: 80 }), (max, ownKeys, ops) => {
        const memo = new Memo<number>(max, ownKeys);
        const model = new Map<string, number>();
        for (const step of ops) {
          if (step.kind === 'clear') {
            memo.clear();
            model.clear();
          } else if (step.kind === 'set') {
            memo.set(ownKeys ? ownCopy(step.key) : step.key, step.value);
            if (!model.has(step.key) && model.size >= max) model.delete(model.keys().next().value as string);
            model.set(step.key, step.value);
          } else {
            // A key made by the caller, as a request's: equal to the one set, not the same string.
            expect(memo.get(` ${step.key}`.slice(1))).toBe(model.get(step.key));
          }
          expect(memo.size).toBe(model.size);
        }
      }),
    );
  });

  it('refuses a bound below one entry, naming it', () => {
    expect(() => new Memo<number>(0)).toThrow('A Memo holds at least one entry: got 0');
    for (const bound of [1.5, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new Memo<number>(bound)).toThrow(RangeError);
  });
});
