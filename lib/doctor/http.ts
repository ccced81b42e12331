import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { HeaderList } from './fetch-rules.js';

export interface HttpAnswer {
  status: number;
  statusText: string;
  /** As received, in order, repeated headers kept apart. */
  headers: HeaderList;
}

/** A connection-level failure (refused, DNS, TLS, timeout): no browser check was reached. */
export class DoctorNetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DoctorNetworkError';
  }
}

/**
 * Sends exactly these headers (plus Host, and Connection: close) with node:http(s), never following a redirect,
 * and reads the answer's status and headers; the body is drained and dropped.
 */
export function send(url: URL, method: string, headers: HeaderList, timeoutMs: number): Promise<HttpAnswer> {
  const outgoing: Record<string, string> = {};
  for (const [name, value] of headers) {
    const existing = Object.keys(outgoing).find((n) => n.toLowerCase() === name.toLowerCase());
    if (existing) outgoing[existing] = `${outgoing[existing]}, ${value}`; // as fetch's Headers.append combines them
    else outgoing[name] = value;
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method,
        headers: { ...outgoing, Connection: 'close' },
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        const raw = res.rawHeaders;
        const list: [string, string][] = [];
        for (let i = 0; i < raw.length; i += 2) list.push([raw[i]!, raw[i + 1]!]);
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: list }));
        res.on('error', (error) => reject(new DoctorNetworkError(`${method} ${url.href}: ${error.message}`)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => reject(new DoctorNetworkError(`${method} ${url.href}: ${error.message}`)));
    req.end();
  });
}
