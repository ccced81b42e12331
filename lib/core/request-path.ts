import type { IncomingMessage } from 'node:http';

/** The path part of the request target, undecoded, as Express's router matches it. */
export function requestPath(request: Pick<IncomingMessage, 'url'>): string {
  const url = request.url ?? '/';
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}
