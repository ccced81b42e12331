/**
 * Built-in methods that return a Promise only to honour an asynchronous contract (ICorsPolicyProvider,
 * ICorsPolicyService), each with a synchronous twin that answers the same. The hot path calls the twin,
 * so a decision that never waits costs no Promise and no timer; a method replaced by a subclass or a
 * spy is not registered, so it is always called as itself.
 */
const twins = new WeakMap<Function, string>();

/** Declares that `method` (a prototype's own method) answers what its sibling `twinName` answers, in a Promise. */
export function declareSyncTwin(method: Function, twinName: string): void {
  twins.set(method, twinName);
}

/**
 * `target[name](a, b)`, or its synchronous twin's answer when `target[name]` is a built-in wrapper.
 * Two fixed parameters (the hot path's methods take one or two) so that no call allocates a rest array.
 */
export function callPreferringSync<R>(target: object, name: string, a?: unknown, b?: unknown): R {
  const methods = target as Record<string, (a?: unknown, b?: unknown) => R>;
  const twin = twins.get(methods[name]!);
  return methods[twin ?? name]!(a, b);
}
