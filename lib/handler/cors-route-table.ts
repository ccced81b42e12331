import { KNOWN_METHODS } from '../core/cors.service.js';
import { Memo } from '../core/memo.js';
import { requestPath } from '../core/request-path.js';
import type { CorsPathSet } from '../identity/cors-paths.js';
import type { PolicyTarget, RouteMatch, RouteMatcher, RouteTarget } from './route-target.js';

/** How many request paths the route table remembers answers for, and the longest it remembers. */
const MEMO_PATHS = 1024;
const MEMO_PATH_LENGTH = 1024;

const NO_ROUTES: RouteMatcher = { match: () => undefined, routes: [] };

/**
 * Which policy each request gets: the identity policy on the identity paths, otherwise the policy of
 * the route that will serve it (its @EnableCors/@DisableCors, else the global policy). The platform's
 * RouteMatcher answers which route serves a method and path, so a preflight `OPTIONS P` with
 * `Access-Control-Request-Method: M` finds the handler that will serve `M P`.
 */
export class CorsRouteTable {
  readonly identityTarget: RouteTarget;
  private matcher: RouteMatcher = NO_ROUTES;
  private targets = new Map<RouteMatch, PolicyTarget>();
  private unroutedTarget: PolicyTarget = null;
  /** The identity paths, compared as the platform's router compares paths. */
  private identityPaths: { has(path: string): boolean };
  // Answers by path, then method: no key is built per request. Bounded, as attackers choose paths: at most
  // MEMO_PATHS paths of at most MEMO_PATH_LENGTH characters (a longer one is looked up every time), each holding
  // at most KNOWN_METHODS answers.
  // By method a Memo too: a preflight's method is its Access-Control-Request-Method, a string new to V8 that a Map
  // would hash first (about 0.2 k instructions per preflight, bench/layer-functions.mjs).
  private readonly cache = new Memo<Memo<PolicyTarget>>(MEMO_PATHS);

  constructor(
    private readonly corsPaths: CorsPathSet,
    identityPolicyName: string,
  ) {
    this.identityTarget = { kind: 'identity', policyName: identityPolicyName };
    this.identityPaths = corsPaths;
  }

  /** Takes the app's routes; `global`: the policy of routes without CORS metadata (undefined name: the default policy). */
  use(matcher: RouteMatcher, global: { name?: string } | undefined): void {
    this.matcher = matcher;
    this.identityPaths = matcher.pathSet?.(this.corsPaths.paths) ?? this.corsPaths;
    this.unroutedTarget = global ? { kind: 'unrouted', policyName: global.name } : null;
    this.targets = new Map(
      matcher.routes.map((route): [RouteMatch, PolicyTarget] => {
        const cors = route.cors;
        if (cors === undefined) return [route, global ? { kind: 'global', policyName: global.name, handlerName: route.handlerName } : null];
        return [route, cors.enabled ? { kind: 'route', policyName: cors.policyName, handlerName: route.handlerName } : null];
      }),
    );
    this.cache.clear();
  }

  /** The path the platform's router routes this request on (see RouteMatcher.pathOf), to give to resolve. */
  pathOf(req: { url?: string }): string | undefined {
    const matcher = this.matcher;
    return matcher.pathOf === undefined ? requestPath(req) : matcher.pathOf(req.url);
  }

  /**
   * The policy for a request with this method and path (as the platform routes it); `null`: no CORS.
   * No path (a target the router cannot parse): the router runs no layer, this library's neither.
   */
  resolve(method: string, path: string | undefined): PolicyTarget {
    if (path === undefined) return null;
    let byMethod = this.cache.get(path);
    if (byMethod === undefined) {
      if (path.length > MEMO_PATH_LENGTH) return this.lookup(method, path);
      byMethod = new Memo<PolicyTarget>(KNOWN_METHODS.size);
      this.cache.set(path, byMethod);
    }
    let target = byMethod.get(method);
    if (target === undefined) {
      target = this.lookup(method, path);
      // A preflight's Access-Control-Request-Method outside Node's methods is answered but not remembered.
      if (KNOWN_METHODS.has(method)) byMethod.set(method, target);
    }
    return target;
  }

  private lookup(method: string, path: string): PolicyTarget {
    if (this.identityPaths.has(path)) return this.identityTarget;
    // Node's parser takes its own methods only, all upper-case: no route serves another on any platform, though a
    // preflight may ask for one (fetch sends `patch` as written) and Express's router would match it case-insensitively.
    const route = KNOWN_METHODS.has(method) ? this.matcher.match(method, path) : undefined;
    return route === undefined ? this.unroutedTarget : (this.targets.get(route) ?? null);
  }
}
