import FindMyWay from 'find-my-way';
import type { RouteMatch, RouteMatcher } from '../../handler/route-target.js';

/** A route as Fastify's onRoute hook gives it (the parts read here). */
export interface FastifyRouteRecord {
  readonly method: string | readonly string[];
  readonly url: string;
  readonly handler: Function;
}

/** The router options of a Fastify instance that decide which route serves a path (its `initialConfig.routerOptions`). */
export type FastifyRouterOptions = Record<string, unknown>;

/** Router options that say how paths are matched: the others (constraints, handlers of bad URLs) are not the shadow router's. */
const PATH_OPTIONS = ['caseSensitive', 'ignoreTrailingSlash', 'ignoreDuplicateSlashes', 'maxParamLength', 'useSemicolonDelimiter', 'allowUnsafeRegex'];

interface Served extends RouteMatch {
  /** A Nest controller route: Nest's FastifyAdapter passes a request with an empty route parameter to the not-found handler. */
  readonly nest: boolean;
}

/**
 * Fastify's routes, matched by a shadow of Fastify's own router: find-my-way (the copy Fastify uses, npm dedupes
 * it) with the instance's own path options, fed every route Fastify registers (its onRoute hook, HEAD routes it adds
 * included). So case sensitivity, trailing and duplicate slashes, maxParamLength, params, wildcards, the global
 * prefix and its exclusions, versioning by URI and RouterModule paths are matched as Fastify routes them.
 *
 * What a preflight cannot know: constraints (Fastify's `host`, Nest's header or media-type `version`, custom
 * strategies) are derived from the actual request's headers, which a preflight does not carry. Routes that differ
 * only by constraints are one route here, the first registered; `conflicts` lists those whose CORS metadata differ.
 */
export class FastifyRoutes implements RouteMatcher {
  readonly routes: readonly RouteMatch[];
  /** Routes that share a method and path with an earlier one but not its CORS metadata (a preflight gets the earlier one's). */
  readonly conflicts: ReadonlyArray<{ method: string; url: string; first: string; other: string }>;
  private readonly router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;

  /** `routeOf`: the controller method (and CORS metadata) a route handler serves. */
  constructor(records: readonly FastifyRouteRecord[], routerOptions: FastifyRouterOptions, routeOf: (handler: Function) => RouteMatch & { nest: boolean }) {
    const options = Object.fromEntries(PATH_OPTIONS.filter((key) => routerOptions[key] !== undefined).map((key) => [key, routerOptions[key]]));
    this.router = FindMyWay(options as FindMyWay.Config<FindMyWay.HTTPVersion.V1>);
    const byHandler = new Map<Function, Served>();
    const routes: Served[] = [];
    const conflicts: Array<{ method: string; url: string; first: string; other: string }> = [];
    for (const record of records) {
      let served = byHandler.get(record.handler);
      if (served === undefined) {
        const { handlerName, cors, nest } = routeOf(record.handler);
        served = { handlerName, cors, nest };
        byHandler.set(record.handler, served);
        routes.push(served);
      }
      for (const method of typeof record.method === 'string' ? [record.method] : record.method) {
        // Registered for the same path already (differing by constraints only, which a shadow route does not keep).
        const earlier = this.router.findRoute(method as FindMyWay.HTTPMethod, record.url);
        if (earlier !== null) {
          const first = earlier.store as Served;
          if (JSON.stringify(first.cors) !== JSON.stringify(served.cors)) conflicts.push({ method, url: record.url, first: first.handlerName, other: served.handlerName });
          continue;
        }
        this.router.on(method as FindMyWay.HTTPMethod, record.url, noop, served);
      }
    }
    this.routes = routes;
    this.conflicts = conflicts;
  }

  /** The route Fastify would serve `method path` with; undefined: its not-found handler (Nest's 404) would. */
  match(method: string, path: string): RouteMatch | undefined {
    const found = this.router.find(method as FindMyWay.HTTPMethod, path);
    if (found === null) return undefined;
    const served = found.store as Served;
    if (served.nest) {
      const params = found.params as Record<string, string | undefined>;
      for (const name in params) if (params[name] === '' && name !== '*') return undefined;
    }
    return served;
  }
}

function noop(): void {}
