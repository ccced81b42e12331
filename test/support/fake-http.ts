import type { IncomingHttpHeaders } from 'node:http';
import type { CorsRequest, CorsResponse } from 'nest-identity-cors';

export function corsRequest(method: string, headers: IncomingHttpHeaders): CorsRequest {
  return { method, headers };
}

export function preflight(origin: string, requestMethod: string, requestHeaders?: string): CorsRequest {
  return corsRequest('OPTIONS', {
    origin,
    'access-control-request-method': requestMethod,
    ...(requestHeaders === undefined ? {} : { 'access-control-request-headers': requestHeaders }),
  });
}

/** A response that records headers case-insensitively, as Node's ServerResponse does. */
export class FakeResponse implements CorsResponse {
  readonly headers = new Map<string, number | string | readonly string[]>();
  getHeader(name: string) {
    return this.headers.get(name.toLowerCase()) as string | undefined;
  }
  setHeader(name: string, value: number | string | readonly string[]) {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }
  get(name: string): string | undefined {
    const value = this.headers.get(name.toLowerCase());
    return value === undefined ? undefined : String(value);
  }
}
