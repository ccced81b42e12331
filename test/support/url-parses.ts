/**
 * Runs `action` with the global URL constructor counting how often each of `values` is parsed
 * (`new URL(value)`), the costly step the origin memo saves; the real URL does the parsing.
 * Other URLs (the test client's own, say) are parsed as usual and not counted.
 */
export async function countUrlParses(values: readonly string[], action: () => unknown): Promise<Map<string, number>> {
  const counts = new Map(values.map((value) => [value, 0]));
  const RealURL = globalThis.URL;
  globalThis.URL = new Proxy(RealURL, {
    construct(target, args, newTarget) {
      const count = counts.get(args[0] as string);
      if (count !== undefined) counts.set(args[0] as string, count + 1);
      return Reflect.construct(target, args, newTarget) as object;
    },
  });
  try {
    await action();
  } finally {
    globalThis.URL = RealURL;
  }
  return counts;
}
