import type { IncomingMessage } from 'node:http';
import { parse } from 'node:url';

/**
 * The path Express's router matches the request on, undecoded: `parseurl(req).pathname`, as router@2's
 * getPathname computes it, for every request-target form (origin-form, absolute-form `http://host/p`,
 * `*`). Undefined when the router finds no path (the target does not parse): no layer runs then, the
 * library's middleware included.
 *
 * The origin-form fast path is parseurl's own (a target starting with `/` is its pathname up to the first
 * `?`, unless it holds whitespace or `#`); everything else goes to Node's legacy `url.parse`, as parseurl
 * does, which also turns `\` into `/` and escapes spaces there. Any other rule would let CORS follow a path
 * that routing does not (RULES 11, 18).
 */
export function requestPath(request: Pick<IncomingMessage, 'url'>): string | undefined {
  const url = request.url;
  if (typeof url !== 'string') return undefined;
  if (url.charCodeAt(0) !== 0x2f /* / */) return parsedPathname(url);
  let end = -1;
  for (let i = 1; i < url.length; i++) {
    switch (url.charCodeAt(i)) {
      case 0x3f /* ? */:
        if (end === -1) end = i;
        break;
      case 0x09 /* \t */:
      case 0x0a /* \n */:
      case 0x0c /* \f */:
      case 0x0d /* \r */:
      case 0x20 /*   */:
      case 0x23 /* # */:
      case 0xa0:
      case 0xfeff:
        return parsedPathname(url);
    }
  }
  return end === -1 ? url : url.slice(0, end);
}

function parsedPathname(url: string): string | undefined {
  try {
    return parse(url).pathname ?? undefined;
  } catch {
    // router@2's getPathname: a target that does not parse has no path.
    return undefined;
  }
}
