import { METHODS } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import type { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { LRUCache } from 'lru-cache';
import { CORS_METADATA, type CorsMetadata } from './cors.decorator.js';
import { RESOLVED_CORS_OPTIONS } from './identity-cors.constants.js';
import type { ResolvedCorsOptions } from './identity-cors-options.validation.js';

/** Which policy a request gets: a name (undefined: the default policy). `null` means no CORS at all. */
export type PolicyTarget = { readonly policyName?: string } | null;

/**
 * Stamped on each controller method before Nest registers its routes. Nest copies a method's
 * metadata onto the handler it gives Express, so the stamp lets a route layer tell which
 * controller method (and so which class- or handler-level CORS metadata) it serves.
 */
const ROUTE_STAMP = 'nest-identity-cors:route';
interface RouteStamp {
  handlerName: string;
  cors?: CorsMetadata;
}

/** The parts of an Express 5 (router@2) layer the table reads. */
interface RouterLayer {
  matchers?: Array<(path: string) => unknown>;
  route?: { _handlesMethod(method: string): boolean; stack: Array<{ handle: Function }> };
  name?: string;
  /** A `use('/')` layer: matches every path without its matchers (so never fails to decode). */
  slash?: boolean;
}

interface RouteEntry {
  matchers: Array<(path: string) => unknown>;
  /** Undefined for a middleware layer (app.use with a path): it serves no request, but a path it cannot decode ends routing with 400. */
  route?: NonNullable<RouterLayer['route']>;
  handlerName: string;
  cors?: CorsMetadata;
  /** What the metadata asks for, built once: undefined when the route has no CORS metadata. */
  target?: PolicyTarget;
}

/** Records each controller method's effective CORS metadata (handler wins over class) where Nest will copy it. */
export function stampControllers(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector): void {
  for (const wrapper of discovery.getControllers()) {
    const { metatype, instance } = wrapper;
    if (!metatype || !instance) continue;
    const prototype = Object.getPrototypeOf(instance) as Record<string, Function>;
    for (const methodName of scanner.getAllMethodNames(prototype)) {
      const method = prototype[methodName];
      const cors = reflector.getAllAndOverride<CorsMetadata | undefined>(CORS_METADATA, [method, metatype as Function]);
      const handlerName = `${wrapper.name}.${methodName}`;
      const stamps: RouteStamp[] = (Reflect.getOwnMetadata(ROUTE_STAMP, method) ?? []).filter((s: RouteStamp) => s.handlerName !== handlerName);
      Reflect.defineMetadata(ROUTE_STAMP, [...stamps, { handlerName, cors }], method);
    }
  }
}

/** Methods Node's parser accepts: a preflight's Access-Control-Request-Method outside them is answered but not remembered. */
const KNOWN_METHODS: ReadonlySet<string> = new Set(METHODS);

/**
 * Which policy each request gets: the identity policy on the identity paths, otherwise the policy of
 * the route that will serve it (its @EnableCors/@DisableCors, else the global policy).
 * Routes are the app's, in the order Express matches them, each with its CORS metadata, so a preflight
 * `OPTIONS P` with `Access-Control-Request-Method: M` finds the handler that will serve `M P`.
 * It reuses Express's own compiled matchers, so global prefixes, versioning, RouterModule paths,
 * params, wildcards, case-insensitivity and trailing slashes behave exactly as in routing.
 */
@Injectable()
export class CorsRouteTable {
  /** The target of every identity path; compare by identity to tell identity requests apart. */
  readonly identityTarget: NonNullable<PolicyTarget>;
  /** The target of a path no route serves: the global policy too, as its own object, so it can be told apart. */
  unroutedTarget: PolicyTarget = null;
  private entries: RouteEntry[] = [];
  private globalTarget: PolicyTarget = null;
  // Answers by path, then method: no key is built per request. Bounded by total path length, so
  // attackers choosing paths cannot grow it without limit; each path holds at most KNOWN_METHODS answers.
  private readonly cache = new LRUCache<string, Map<string, PolicyTarget>>({
    maxSize: 1_000_000,
    sizeCalculation: (_value, path) => path.length + 256,
  });

  constructor(@Inject(RESOLVED_CORS_OPTIONS) private readonly options: ResolvedCorsOptions) {
    this.identityTarget = { policyName: options.identity.corsPolicyName };
  }

  build(layers: readonly RouterLayer[], globalTarget: PolicyTarget): void {
    this.globalTarget = globalTarget;
    this.unroutedTarget = globalTarget === null ? null : { ...globalTarget };
    this.cache.clear();
    this.entries = layers.flatMap((layer): RouteEntry[] => {
      const route = layer.route;
      if (!layer.matchers || layer.slash === true) return [];
      if (!route) return [{ matchers: layer.matchers, handlerName: layer.name ?? '<anonymous>' }];
      const handle = route.stack[0]?.handle;
      const stamps: RouteStamp[] | undefined = handle && Reflect.getMetadata(ROUTE_STAMP, handle);
      const stamp = stamps?.find((s) => s.handlerName === handle?.name) ?? stamps?.[0];
      const cors = stamp?.cors;
      const target = cors === undefined ? undefined : cors.enabled ? { policyName: cors.policyName } : null;
      return [{ matchers: layer.matchers, route, handlerName: stamp?.handlerName ?? handle?.name ?? '<anonymous>', cors, target }];
    });
  }

  /** The policy names routes ask for through @EnableCors, with the handler that asks (for startup checks). */
  requestedPolicies(): Array<{ handlerName: string; policyName?: string }> {
    return this.entries.flatMap((entry) => (entry.cors?.enabled ? [{ handlerName: entry.handlerName, policyName: entry.cors.policyName }] : []));
  }

  /**
   * The policy for a request with this method and (undecoded) path, as requestPath gives it; `null`: no
   * CORS. No path (a target the router cannot parse): the router runs no layer, this library's neither.
   */
  resolve(method: string, path: string | undefined): PolicyTarget {
    if (path === undefined) return null;
    let byMethod = this.cache.get(path);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.cache.set(path, byMethod);
    }
    let target = byMethod.get(method);
    if (target === undefined) {
      target = this.lookup(method, path);
      if (KNOWN_METHODS.has(method)) byMethod.set(method, target);
    }
    return target;
  }

  private lookup(method: string, path: string): PolicyTarget {
    if (this.options.identity.corsPaths.has(path)) return this.identityTarget;
    const entry = this.match(method, path);
    if (entry === undefined) return this.unroutedTarget;
    return entry.target === undefined ? this.globalTarget : entry.target;
  }

  /**
   * The route that serves `method path`, as router@2 walks its stack: every layer's pattern is tried in
   * order, whatever its method, and the first that cannot decode the path's params (a malformed %-escape)
   * ends routing with a 400. That answer gets the policy of the route whose pattern matched (never more
   * permissive than the route the request was addressed to), or the unrouted policy when a middleware
   * layer's pattern failed.
   */
  private match(method: string, path: string): RouteEntry | undefined {
    for (const entry of this.entries) {
      let matched: unknown = false;
      try {
        for (const matcher of entry.matchers) {
          matched = matcher(path);
          if (matched) break;
        }
      } catch {
        return entry.route === undefined ? undefined : entry;
      }
      if (matched && entry.route !== undefined && entry.route._handlesMethod(method)) return entry;
    }
    return undefined;
  }
}
