/** What a controller or handler says about CORS: a policy (by name; none = the default policy) or none at all. */
export type CorsMetadata = { enabled: true; policyName?: string } | { enabled: false };

/**
 * Which policy a request gets, and why. `null` means no CORS at all (@DisableCors, or no policy applies).
 * - `identity`: one of the identity paths, answered by the identity policy;
 * - `route`: the route's own @EnableCors (on its handler or controller);
 * - `global`: a route without CORS metadata, under the global policy;
 * - `unrouted`: a path no route serves, under the global policy (another listener may serve it).
 * `policyName` undefined means the default policy.
 */
export type RouteTarget =
  | { readonly kind: 'identity'; readonly policyName: string }
  | { readonly kind: 'route'; readonly policyName?: string; readonly handlerName: string }
  | { readonly kind: 'global'; readonly policyName?: string; readonly handlerName: string }
  | { readonly kind: 'unrouted'; readonly policyName?: string };
export type PolicyTarget = RouteTarget | null;

/** A route as a platform's router knows it: the handler it calls and that handler's CORS metadata. */
export interface RouteMatch {
  readonly handlerName: string;
  readonly cors?: CorsMetadata;
}

/**
 * A platform's own router, asked which route serves a method and path exactly as it would route them
 * (each platform folder has one). `undefined`: no route serves them.
 */
export interface RouteMatcher {
  match(method: string, path: string): RouteMatch | undefined;
  /** Every route, in the order the router tries them. */
  readonly routes: readonly RouteMatch[];
  /**
   * Literal paths compared as this router compares request paths, for a router whose comparison is the app's to
   * set (Fastify's options); without it, paths compare as Express's router does by default (CorsPathSet).
   */
  pathSet?(paths: readonly string[]): { has(path: string): boolean };
  /**
   * The path this router routes a request target on (what `match` and `pathSet` are given), for a router that does
   * not read targets as Express's does; without it, `requestPath` (parseurl). Undefined: no path, no CORS.
   */
  pathOf?(url: string | undefined): string | undefined;
}

export function policyLabel(target: RouteTarget): string {
  return target.policyName === undefined ? 'the default policy' : `policy '${target.policyName}'`;
}
