/**
 * Fastify's routes for the route table: a copy of Fastify's router fed the routes Fastify registers. Over 200 lines
 * because reading a target as find-my-way reads it (fastifyPath), its path options (pathOptionsOf) and Nest's own
 * not-found rules (distinctParamNames) must all agree with Fastify's for a preflight to get the right route.
 */
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
const PATH_OPTIONS = ['caseSensitive', 'ignoreTrailingSlash', 'ignoreDuplicateSlashes', 'maxParamLength', 'useSemicolonDelimiter', 'allowUnsafeRegex'] as const;

/** The parts of a Fastify instance's `initialConfig` that hold its router options. */
export type FastifyInitialConfig = { routerOptions?: FastifyRouterOptions } & FastifyRouterOptions;

/**
 * The path options Fastify's router was built with. Fastify takes each from `routerOptions`, else from the
 * deprecated top-level option, else its default; `initialConfig` shows both, with defaults filled in, so a
 * value is read as Nest's FastifyAdapter reads it (getRouteMatchingOptions): a boolean set either way is set,
 * `caseSensitive: false` either way is case-insensitive, and a `routerOptions.maxParamLength` at its default
 * (100) yields to a lower top-level one. Nest's adapter folds top-level options into `routerOptions` itself;
 * this matters for a Fastify instance passed to it.
 */
export function pathOptionsOf(config: FastifyInitialConfig): FastifyRouterOptions {
  const router = config.routerOptions ?? {};
  const options: FastifyRouterOptions = {};
  for (const key of PATH_OPTIONS) {
    const value = router[key] ?? config[key];
    if (value !== undefined) options[key] = value;
  }
  for (const key of ['ignoreTrailingSlash', 'ignoreDuplicateSlashes', 'useSemicolonDelimiter', 'allowUnsafeRegex'] as const) {
    if (router[key] === true || config[key] === true) options[key] = true;
  }
  if (router.caseSensitive === false || config.caseSensitive === false) options.caseSensitive = false;
  const topLevel = Number(config.maxParamLength) || DEFAULT_MAX_PARAM_LENGTH;
  const fromRouter = Number(router.maxParamLength) || DEFAULT_MAX_PARAM_LENGTH;
  options.maxParamLength = fromRouter === DEFAULT_MAX_PARAM_LENGTH ? Math.min(fromRouter, topLevel) : fromRouter;
  return options;
}
const DEFAULT_MAX_PARAM_LENGTH = 100;

/**
 * A path Fastify's router rejects before any hook runs (a 400 for an escape it cannot decode, a 414 for a route
 * parameter longer than maxParamLength): its actual request gets no CORS headers, its preflight neither.
 */
const REJECTED: Served = { handlerName: '<rejected by the router>', cors: { enabled: false }, nest: false };

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
  /** Routes that share a method and path with an earlier one but not its CORS metadata (a preflight gets the earlier one's); `method` lists every method they share ("GET, HEAD"). */
  readonly conflicts: ReadonlyArray<{ method: string; url: string; first: string; other: string }>;
  private readonly router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;
  private readonly pathOptions: FastifyRouterOptions;

  /** `routeOf`: the controller method (and CORS metadata) a route handler serves. */
  constructor(records: readonly FastifyRouteRecord[], pathOptions: FastifyRouterOptions, routeOf: (handler: Function) => RouteMatch & { nest: boolean }) {
    this.pathOptions = pathOptions;
    this.router = shadowRouter(pathOptions);
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
      // Nest's adapter needs every parameter non-empty, an earlier one of a repeated name too, which the router's
      // params (one value per name) would hide: the shadow route names each occurrence apart. Same pattern otherwise.
      const url = served.nest ? distinctParamNames(record.url) : record.url;
      for (const method of typeof record.method === 'string' ? [record.method] : record.method) {
        // Registered for the same path already (differing by constraints only, which a shadow route does not keep).
        const earlier = this.router.findRoute(method as FindMyWay.HTTPMethod, url);
        if (earlier !== null) {
          const first = earlier.store as Served;
          if (JSON.stringify(first.cors) !== JSON.stringify(served.cors)) {
            // One entry per pair of routes: a GET route's HEAD route (which Fastify adds) is named beside it.
            const same = conflicts.find((c) => c.url === record.url && c.first === first.handlerName && c.other === served.handlerName);
            if (same === undefined) conflicts.push({ method, url: record.url, first: first.handlerName, other: served.handlerName });
            else if (!same.method.split(', ').includes(method)) same.method += `, ${method}`;
          }
          continue;
        }
        try {
          this.router.on(method as FindMyWay.HTTPMethod, url, noop, served);
        } catch {
          // Fastify's router refused it too (onRoute hooks run before it is added): Fastify does not serve it.
        }
      }
    }
    this.routes = [...routes, REJECTED];
    this.conflicts = conflicts;
  }

  /**
   * The identity paths, compared as Fastify's router compares paths with the app's options (RULES 11): each is
   * a literal route of its own router (a `:` in it is literal too).
   */
  pathSet(paths: readonly string[]): { has(path: string): boolean } {
    const router = shadowRouter(this.pathOptions);
    const identity = {};
    for (const path of paths) {
      try {
        router.on('GET', path.replaceAll(':', '::'), noop, identity);
      } catch {
        // The same path twice as the router compares them (say '/a' and '/A' without caseSensitive): added once.
      }
    }
    return { has: (path) => router.find('GET', path)?.store === identity };
  }

  /** The path Fastify's router routes a request target on: see fastifyPath. */
  pathOf(url: string | undefined): string | undefined {
    return fastifyPath(url);
  }

  /** The route Fastify would serve `method path` with; undefined: its not-found handler (Nest's 404) would. */
  match(method: string, path: string): RouteMatch | undefined {
    const found = this.router.find(method as FindMyWay.HTTPMethod, path);
    if (found === null) return undefined;
    if (found.store === null) return REJECTED;
    const served = found.store as Served;
    if (served.nest) {
      const params = found.params as Record<string, string | undefined>;
      for (const name in params) if (params[name] === '' && name !== '*') return undefined;
    }
    return served;
  }
}

/**
 * The part of a request target that Fastify's router (find-my-way's `find`) routes on, undecoded: an origin-form
 * target up to its first `?` or `#`; any other form (absolute-form, `*`) whole, as the shadow router reads those
 * itself as Fastify's does. Not Express's parseurl: that turns `\` into `/` in an absolute-form target or one with a
 * `#`, which find-my-way keeps, so `/files/public\x#` would get the CORS treatment of `/files/public/x` while
 * Fastify serves `/files/:name` (RULES 18).
 */
export function fastifyPath(url: string | undefined): string | undefined {
  if (typeof url !== 'string') return undefined;
  if (url.charCodeAt(0) !== 0x2f /* / */) return url;
  // Two native scans: a loop over the characters in JavaScript cost several times more (bench/layer-instructions.sh).
  const query = url.indexOf('?');
  const fragment = url.indexOf('#');
  const end = query === -1 ? fragment : fragment === -1 ? query : Math.min(query, fragment);
  return end === -1 ? url : url.slice(0, end);
}

/** A find-my-way router with the app's path options that, as Fastify's own, answers paths it rejects (400, 414) before any hook: nothing CORS is written for them. */
function shadowRouter(pathOptions: FastifyRouterOptions): FindMyWay.Instance<FindMyWay.HTTPVersion.V1> {
  return FindMyWay({ ...pathOptions, onBadUrl: rejected, onMaxParamLength: rejected } as FindMyWay.Config<FindMyWay.HTTPVersion.V1>);
}

/** Where find-my-way ends a parameter's name (Nest's adapter reads names the same way). */
const NAME_ENDS = '(-./';

/** The route path with each repeated parameter name made distinct (`/a/:id/b/:id` → `/a/:id/b/:id~2`); others unchanged. */
export function distinctParamNames(url: string): string {
  if (!url.includes(':')) return url;
  const seen = new Map<string, number>();
  let out = '';
  for (let i = 0; i < url.length; i++) {
    out += url[i];
    if (url[i] === '(') {
      // A parameter's regular expression, copied as it is (a ':' there names nothing).
      let depth = 1;
      while (++i < url.length && depth > 0) {
        if (url[i] === '\\') out += url[i++];
        else if (url[i] === '(') depth++;
        else if (url[i] === ')') depth--;
        out += url[i] ?? '';
      }
      i--;
      continue;
    }
    if (url[i] !== ':') continue;
    if (url[i + 1] === ':') {
      // '::' is an escaped colon.
      out += ':';
      i++;
      continue;
    }
    let end = i + 1;
    while (end < url.length && !NAME_ENDS.includes(url[end]!)) end++;
    const name = url.slice(i + 1, end);
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    out += count === 1 ? name : `${name}~${count}`;
    i = end - 1;
  }
  return out;
}

function noop(): void {}
function rejected(): void {}
