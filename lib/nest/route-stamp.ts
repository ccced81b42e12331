import type { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { CorsMetadata, RouteMatch } from '../handler/route-target.js';
import { CORS_METADATA } from './cors.decorator.js';
import { IdentityCorsOptionsError } from './identity-cors-options.validation.js';

/**
 * Stamped on each controller method before Nest registers its routes. Nest copies a method's
 * metadata onto the handler it gives the platform's router, so the stamp lets a route tell which
 * controller method (and so which class- or handler-level CORS metadata) it serves.
 */
const ROUTE_STAMP = 'nest-identity-cors:route';

/** Nest's PATH_METADATA (@nestjs/common/constants): set on a controller method by its route decorator. */
const ROUTE_PATH = 'path';

/**
 * Records each controller method's effective CORS metadata (handler wins over class) where Nest will copy it. A
 * method several controllers share (a base class's) carries one record per controller, told apart by the name Nest
 * gives each route handler, "Controller.method": two controllers of one class name that share a route method with
 * different CORS metadata would take each other's, so they are refused (RULES 16).
 */
export function stampControllers(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector): void {
  const problems = new Set<string>();
  for (const wrapper of discovery.getControllers()) {
    const { metatype, instance } = wrapper;
    if (!metatype || !instance) continue;
    const prototype = Object.getPrototypeOf(instance) as Record<string, Function>;
    for (const methodName of scanner.getAllMethodNames(prototype)) {
      const method = prototype[methodName];
      if (typeof method !== 'function' || Reflect.getMetadata(ROUTE_PATH, method) === undefined) continue;
      const cors = reflector.getAllAndOverride<CorsMetadata | undefined>(CORS_METADATA, [method, metatype as Function]);
      const handlerName = `${wrapper.name}.${methodName}`;
      const stamps: RouteMatch[] = Reflect.getOwnMetadata(ROUTE_STAMP, method) ?? [];
      const sameName = stamps.find((s) => s.handlerName === handlerName);
      if (sameName !== undefined && describe(sameName.cors) !== describe(cors)) problems.add(sameNameProblem(wrapper.name, methodName, sameName.cors, cors));
      Reflect.defineMetadata(ROUTE_STAMP, [...stamps.filter((s) => s !== sameName), { handlerName, cors }], method);
    }
  }
  if (problems.size > 0) throw new IdentityCorsOptionsError([...problems]);
}

/** CORS metadata as a decorator spells it. */
function describe(cors: CorsMetadata | undefined): string {
  if (cors === undefined) return 'no CORS decorator (the global policy)';
  if (!cors.enabled) return '@DisableCors()';
  return cors.policyName === undefined ? '@EnableCors()' : `@EnableCors('${cors.policyName}')`;
}

function sameNameProblem(className: string, method: string, first: CorsMetadata | undefined, other: CorsMetadata | undefined): string {
  const handlerName = `${className}.${method}`;
  return (
    `two controllers named ${className} share a route method ${method} (a base class's) with different CORS metadata (${describe(first)} and ${describe(other)}): ` +
    `the library tells which controller a route serves by the name Nest gives its handler, '${handlerName}' for both. ` +
    `${declareInEach(method)} (on Nest 12, giving the classes different names works too: Object.defineProperty(TheClass, 'name', { value: 'Internal${className}' }))`
  );
}

/** The fix that tells a shared method's controllers apart on every Nest version: a method of each controller's own. */
function declareInEach(method: string): string {
  return `Declare the method in each controller, with its route decorator (@Get(...) ${method}() { return super.${method}(); })`;
}

/**
 * The controller method a route handler serves, from its stamp: a method shared by several controllers (a base
 * class's) has one stamp each, told apart by the name Nest gives the handler. Nest 11 names none, and Nest 12 none it
 * registers late (routeConflictPolicy, routeResolutionStrategy): a shared method whose controllers differ in CORS
 * metadata cannot be told apart then, and is refused rather than given one controller's policy.
 */
export function routeOf(handle: Function | undefined): RouteMatch {
  const stamps: RouteMatch[] | undefined = handle && Reflect.getMetadata(ROUTE_STAMP, handle);
  const named = stamps?.find((s) => s.handlerName === handle?.name);
  if (named === undefined && stamps !== undefined && new Set(stamps.map((s) => describe(s.cors))).size > 1) {
    const method = stamps[0]!.handlerName.slice(stamps[0]!.handlerName.lastIndexOf('.') + 1);
    throw new IdentityCorsOptionsError([
      `${stamps.map((s) => s.handlerName).join(', ')} are one method, shared by these controllers, with different CORS metadata (${stamps.map((s) => describe(s.cors)).join(', ')}), and Nest registered its routes without naming their handlers (Nest 11 never names them; Nest 12 not with routeConflictPolicy or routeResolutionStrategy): which controller a route serves cannot be told. ${declareInEach(method)}, or give it the same CORS metadata in all of them`,
    ]);
  }
  const stamp = named ?? stamps?.[0];
  return { handlerName: stamp?.handlerName ?? handle?.name ?? '<anonymous>', cors: stamp?.cors };
}

/**
 * Which controller method each Nest route handler serves, by the name Nest gives the handler ("Controller.method"),
 * for a platform whose adapter wraps handlers without their metadata (Fastify's, for paths with parameters).
 * `nest` is false for a handler no controller method stamped (a route registered outside Nest).
 */
export function routeOfNamed(discovery: DiscoveryService, scanner: MetadataScanner): (handle: Function) => RouteMatch & { nest: boolean } {
  const byName = new Map<string, RouteMatch>();
  /** Names that two controllers' methods with different CORS metadata share: a handler found by such a name is refused. */
  const ambiguous = new Map<string, string>();
  for (const wrapper of discovery.getControllers()) {
    const { metatype, instance } = wrapper;
    if (!metatype || !instance) continue;
    const prototype = Object.getPrototypeOf(instance) as Record<string, Function>;
    for (const methodName of scanner.getAllMethodNames(prototype)) {
      const handlerName = `${wrapper.name}.${methodName}`;
      const stamp = (Reflect.getOwnMetadata(ROUTE_STAMP, prototype[methodName]!) as RouteMatch[] | undefined)?.find((s) => s.handlerName === handlerName);
      if (stamp === undefined) continue;
      const first = byName.get(handlerName);
      if (first === undefined) byName.set(handlerName, stamp);
      else if (describe(first.cors) !== describe(stamp.cors)) ambiguous.set(handlerName, sameNameProblem(wrapper.name, methodName, first.cors, stamp.cors));
    }
  }
  return (handle) => {
    const stamped = Reflect.getMetadata(ROUTE_STAMP, handle) !== undefined;
    if (!stamped && ambiguous.has(handle.name)) throw new IdentityCorsOptionsError([ambiguous.get(handle.name)!]);
    const route = stamped ? routeOf(handle) : byName.get(handle.name);
    return route ? { ...route, nest: true } : { handlerName: handle.name || '<anonymous>', nest: false };
  };
}
