import type { RouteMatch, RouteMatcher } from '../../handler/route-target.js';
import { routeOf } from '../../nest/route-stamp.js';

/** The parts of an Express 5 (router@2) layer read here: the route table's door to Express's internals. */
interface RouterLayer {
  matchers?: Array<(path: string) => unknown>;
  route?: { _handlesMethod(method: string): boolean; stack: Array<{ handle: Function }> };
  name?: string;
}

interface ExpressRoute extends RouteMatch {
  readonly matchers: Array<(path: string) => unknown>;
  readonly route: NonNullable<RouterLayer['route']>;
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

  constructor(layers: readonly RouterLayer[]) {
    this.routes = layers.flatMap((layer) => {
      const route = layer.route;
      if (!route || !layer.matchers) return [];
      return [{ ...routeOf(route.stack[0]?.handle), matchers: layer.matchers, route }];
    });
  }

  match(method: string, path: string): RouteMatch | undefined {
    for (const entry of this.routes) {
      if (!entry.route._handlesMethod(method)) continue;
      for (const matcher of entry.matchers) {
        try {
          if (matcher(path)) return entry;
        } catch {
          // Express answers a malformed %-escape in a param with 400 from this layer; no handler runs.
          return undefined;
        }
      }
    }
    return undefined;
  }
}
