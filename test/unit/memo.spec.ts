import { Memo } from '../../lib/core/memo.js';

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
