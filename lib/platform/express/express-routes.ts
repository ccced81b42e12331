import type { RouteMatch, RouteMatcher } from '../../handler/route-target.js';
import { routeOf } from '../../nest/route-stamp.js';

/** The parts of an Express 5 (router@2) layer read here: the route table's door to Express's internals. */
interface RouterLayer {
  matchers?: Array<(path: string) => unknown>;
  route?: { _handlesMethod(method: string): boolean; stack: Array<{ handle: Function }> };
  name?: string;
  /** A `use('/')` layer: matches every path without its matchers (so never fails to decode). */
  slash?: boolean;
}

interface ExpressRoute extends RouteMatch {
  readonly route: NonNullable<RouterLayer['route']>;
}

/** A layer as the router walks it: a route, or a middleware layer with a path (it serves no request, but can end routing with 400). */
interface ExpressLayer {
  readonly matchers: Array<(path: string) => unknown>;
  readonly route?: ExpressRoute;
}

/** The Express app's router layers, or undefined when the HTTP adapter is not Express 5. */
export function expressLayers(instance: unknown): readonly RouterLayer[] | undefined {
  const layers = (instance as { router?: { stack?: unknown } } | undefined)?.router?.stack;
  return Array.isArray(layers) ? (layers as RouterLayer[]) : undefined;
}

/** True when `app.enableCors()` (the `cors` package's middleware) is mounted on the Express app. */
export function hasExpressCorsMiddleware(layers: readonly RouterLayer[]): boolean {
  return layers.some((layer) => layer.name === 'corsMiddleware');
}

/**
 * Express's routes, matched with Express's own compiled matchers, so that global prefixes, versioning,
 * RouterModule paths, params, wildcards, case-insensitivity and trailing slashes behave exactly as in routing.
 */
export class ExpressRoutes implements RouteMatcher {
  readonly routes: readonly ExpressRoute[];
  private readonly layers: readonly ExpressLayer[];

  constructor(layers: readonly RouterLayer[]) {
    this.layers = layers.flatMap((layer): ExpressLayer[] => {
      if (!layer.matchers || layer.slash === true) return [];
      const route = layer.route;
      if (!route) return [{ matchers: layer.matchers }];
      return [{ matchers: layer.matchers, route: { ...routeOf(route.stack[0]?.handle), route } }];
    });
    this.routes = this.layers.flatMap((layer) => (layer.route ? [layer.route] : []));
  }

  /**
   * The route that serves `method path`, as router@2 walks its stack: every layer's pattern is tried in
   * order, whatever its method, and the first that cannot decode the path's params (a malformed %-escape)
   * ends routing with a 400. That answer gets the policy of the route whose pattern matched (never more
   * permissive than the route the request was addressed to), or none (the unrouted policy) when a
   * middleware layer's pattern failed.
   */
  match(method: string, path: string): RouteMatch | undefined {
    for (const layer of this.layers) {
      let matched: unknown = false;
      try {
        for (const matcher of layer.matchers) {
          matched = matcher(path);
          if (matched) break;
        }
      } catch {
        return layer.route;
      }
      if (matched && layer.route !== undefined && layer.route.route._handlesMethod(method)) return layer.route;
    }
    return undefined;
  }
}
