/**
 * Subdomain patterns (`https://*.example.com`) and the policy's origin entries (an exact origin or a pattern):
 * parsed and checked at startup (a pattern under a public suffix is refused, through the Public Suffix List),
 * matched per request by whole labels through an index.
 */
import { getDomain } from 'tldts';
import { EXAMPLE, InvalidOriginError, NULL_ORIGIN, ORIGIN_SHAPE, normalizeExactOrigin, quote, whitespaceError } from './origin.js';

/**
 * An entry of a CORS policy's origins: an exact origin (serialized) or a subdomain pattern.
 * `'*'` (any origin) is the policy's business and never reaches here.
 */
export function parsePolicyOrigin(value: unknown): string | OriginPattern {
  if (typeof value === 'string' && value !== NULL_ORIGIN && value.trim() !== value) {
    throw whitespaceError(value, (trimmed) => String(parsePolicyOrigin(trimmed)));
  }
  if (typeof value === 'string' && value.includes('*') && value !== '*') return OriginPattern.parse(value);
  return normalizeExactOrigin(value);
}

/** True for `scheme://*.host[:port]`, the declared-subdomain pattern form. */
export function isOriginPattern(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z][A-Za-z0-9+.-]*:\/\/\*\./.test(value);
}

/**
 * A declared subdomain pattern such as `https://*.example.com`: matches origins with the same
 * scheme and port whose host ends in whole labels with `.example.com` (not `example.com` itself,
 * not `evilexample.com`).
 */
export class OriginPattern {
  private constructor(
    /** The pattern as normalized, e.g. `https://*.example.com:8443`. */
    readonly pattern: string,
    private readonly prefix: string,
    private readonly hostSuffix: string,
    private readonly portSuffix: string,
  ) {}

  static parse(value: string): OriginPattern {
    const problem = (reason: string, candidate?: string) => new InvalidOriginError(value, `${quote(value)} ${reason}: ${patternFix(candidate)}`);
    if (typeof value !== 'string') throw new InvalidOriginError(value, `${quote(value)} is not a subdomain pattern: ${patternFix()}`);
    if (value.trim() !== value) throw whitespaceError(value, (trimmed) => OriginPattern.parse(trimmed).pattern);
    const shape = ORIGIN_SHAPE.exec(value);
    if (!shape) {
      const bare = /^[^:/?#]*\*[^:/?#]*(:\d+)?$/.test(value);
      throw problem('has no scheme', bare ? `https://${value}` : undefined);
    }
    const [, scheme, authority, rest] = shape;
    // The pattern as it would be with each wildcard label collapsed into one leading `*.`: what was most likely meant.
    const collapsed = (host: string) => {
      const labels = host.split('.');
      let last = labels.length - 1;
      while (last > 0 && !labels[last].includes('*')) last--;
      const kept = labels[last].replaceAll('*', '');
      return `${scheme}://*.${[kept, ...labels.slice(last + 1)].filter((label) => label !== '').join('.')}`;
    };
    if (rest !== '') {
      throw problem('is a URL, not a pattern', `${scheme}://${authority}`);
    }
    if (!authority.startsWith('*.')) {
      if (authority === '*' || authority.startsWith('*:')) {
        throw new InvalidOriginError(value, `${quote(value)} matches no domain: to allow every origin, call allowAnyOrigin(); for the subdomains of your domain, use '${scheme}://*.example.com${authority.slice(1)}' with your domain`);
      }
      const firstLabel = authority.split('.')[0];
      throw problem(
        firstLabel.includes('*') && firstLabel !== '*' ? 'has a wildcard inside a label (a wildcard is a whole label)' : 'has a wildcard that is not its first label',
        collapsed(authority),
      );
    }
    const base = `${scheme}://${authority.slice(2)}`;
    const port = /:([^:\]]*)$/.exec(authority)?.[1];
    if (port?.includes('*')) throw problem('has a wildcard port (ports are matched exactly)', `${scheme}://${authority.slice(0, authority.length - port.length - 1)}`);
    if (authority.slice(2).includes('*')) {
      throw problem("has more than one wildcard ('*.' matches subdomains at any depth)", collapsed(authority));
    }
    if (authority.slice(2).split(':')[0] === '') throw problem("has no domain after '*.'");
    let origin: string;
    try {
      origin = normalizeExactOrigin(base);
    } catch (error) {
      const fixed = /use '([^']*)'/.exec((error as Error).message)?.[1]?.replace('://', '://*.');
      throw problem('is not a valid subdomain pattern (its domain is not a valid origin)', fixed);
    }
    const url = new URL(origin);
    if (/^\[|^\d+(\.\d+){3}$/.test(url.hostname)) {
      throw new InvalidOriginError(value, `${quote(value)} puts a wildcard in front of an IP address, which has no subdomains: list the origin itself, use '${origin}'`);
    }
    const prefix = origin.slice(0, origin.indexOf('://') + 3);
    const portSuffix = url.port ? `:${url.port}` : '';
    // Anyone can register a name under a public suffix (`com`, `co.uk`, `github.io`), so such a pattern admits
    // origins of strangers. `localhost` is the one suffix kept: its names resolve to the local machine only.
    const domain = url.hostname.endsWith('.') ? url.hostname.slice(0, -1) : url.hostname; // a fully qualified name is the same name
    if (domain !== 'localhost' && getDomain(domain, { allowPrivateDomains: true }) === null) {
      throw new InvalidOriginError(
        value,
        `${quote(value)} would allow every site under the public suffix '${domain}', where anyone can register a name: list the origins, or narrow it to a domain you own: ${patternFix(`${prefix}*.example.${url.hostname}${portSuffix}`)}`,
      );
    }
    return new OriginPattern(`${prefix}*.${url.hostname}${portSuffix}`, prefix, `.${url.hostname}`, portSuffix);
  }

  /** `origin` must already be a serialized origin (see parseRequestOrigin). */
  matches(origin: string): boolean {
    if (!origin.startsWith(this.prefix) || !origin.endsWith(this.portSuffix)) return false;
    const host = origin.slice(this.prefix.length, origin.length - this.portSuffix.length);
    // a port in the host part means the request's port differs from the pattern's
    if (host.includes(':') || host.includes('[')) return false;
    return host.length > this.hostSuffix.length && host.endsWith(this.hostSuffix);
  }

  /** `scheme://.domain[:port]`: what OriginPatternSet indexes this pattern by. */
  get key(): string {
    return `${this.prefix}${this.hostSuffix}${this.portSuffix}`;
  }

  toString(): string {
    return this.pattern;
  }
}

/** `use '<candidate>'` when the candidate is itself an accepted pattern, else the general form. */
function patternFix(candidate?: string): string {
  if (candidate !== undefined) {
    try {
      return `use '${OriginPattern.parse(candidate).pattern}'`;
    } catch {
      // not a pattern either: fall back to the general form
    }
  }
  return "a pattern is scheme://*.domain[:port], for example, use 'https://*.example.com' with your domain";
}

/**
 * Subdomain patterns indexed by scheme, parent domain and port. `matches` gives the same answer as
 * asking each pattern in turn, but costs one hash lookup per label of the origin's host, so a policy
 * with thousands of tenant patterns decides as fast as one with three.
 */
export class OriginPatternSet {
  private readonly keys: ReadonlySet<string>;

  constructor(patterns: Iterable<OriginPattern>) {
    this.keys = new Set(Array.from(patterns, (pattern) => pattern.key));
  }

  get size(): number {
    return this.keys.size;
  }

  /** `origin` must already be a serialized origin (see parseRequestOrigin). */
  matches(origin: string): boolean {
    if (this.keys.size === 0) return false;
    const schemeEnd = origin.indexOf('://');
    if (schemeEnd === -1) return false;
    const hostStart = schemeEnd + 3;
    if (origin.includes('[', hostStart)) return false;
    const portColon = origin.lastIndexOf(':');
    const hostEnd = portColon >= hostStart ? portColon : origin.length;
    // as OriginPattern.matches: a second colon in the host part never matches
    if (origin.indexOf(':', hostStart) < hostEnd && origin.indexOf(':', hostStart) !== -1) return false;
    const scheme = origin.slice(0, hostStart);
    const port = origin.slice(hostEnd);
    // every parent domain of the host, from the longest: `.b.example.com`, `.example.com`, `.com`
    for (let dot = origin.indexOf('.', hostStart + 1); dot !== -1 && dot < hostEnd; dot = origin.indexOf('.', dot + 1)) {
      if (this.keys.has(scheme + origin.slice(dot, hostEnd) + port)) return true;
    }
    return false;
  }
}
