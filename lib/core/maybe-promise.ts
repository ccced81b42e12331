/** A value now, or later (the contracts' `T | Promise<T>`). The hot path stays synchronous until some step really is asynchronous. */
export type MaybePromise<T> = T | Promise<T>;

export function isPromiseLike<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | null | undefined)?.then === 'function';
}
