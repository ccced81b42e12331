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

/**
 * Records each controller method's effective CORS metadata (handler wins over class) where Nest will copy it. A route
 * is told from another by the name Nest gives its handler, "Controller.method": two controllers of one class name whose
 * methods of one name have different CORS metadata would take each other's, so they are refused (RULES 16).
 */
export function stampControllers(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector): void {
  const named = new Map<string, { metatype: Function; cors: CorsMetadata | undefined }>();
  const problems = new Set<string>();
  for (const wrapper of discovery.getControllers()) {
    const { metatype, instance } = wrapper;
    if (!metatype || !instance) continue;
    const prototype = Object.getPrototypeOf(instance) as Record<string, Function>;
    for (const methodName of scanner.getAllMethodNames(prototype)) {
      const method = prototype[methodName];
      const cors = reflector.getAllAndOverride<CorsMetadata | undefined>(CORS_METADATA, [method, metatype as Function]);
      const handlerName = `${wrapper.name}.${methodName}`;
      const first = named.get(handlerName);
      if (first === undefined) named.set(handlerName, { metatype: metatype as Function, cors });
      else if (first.metatype !== metatype && describe(first.cors) !== describe(cors)) problems.add(sameNameProblem(handlerName, wrapper.name, first.cors, cors));
      const stamps: RouteMatch[] = (Reflect.getOwnMetadata(ROUTE_STAMP, method) ?? []).filter((s: RouteMatch) => s.handlerName !== handlerName);
      Reflect.defineMetadata(ROUTE_STAMP, [...stamps, { handlerName, cors }], method);
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

function sameNameProblem(handlerName: string, className: string, first: CorsMetadata | undefined, other: CorsMetadata | undefined): string {
  return (
    `two controllers named ${className} have a method ${handlerName.slice(className.length + 1)} with different CORS metadata (${describe(first)} and ${describe(other)}): ` +
    `Nest names both route handlers '${handlerName}', by which the library tells routes apart, so one would get the other's. ` +
    `Give the classes different names (a class made by a function: Object.defineProperty(TheClass, 'name', { value: 'Internal${className}' }))`
  );
}

/** The controller method a route handler serves, from its stamp (a method shared by two controllers has one stamp each). */
export function routeOf(handle: Function | undefined): RouteMatch {
  const stamps: RouteMatch[] | undefined = handle && Reflect.getMetadata(ROUTE_STAMP, handle);
  const stamp = stamps?.find((s) => s.handlerName === handle?.name) ?? stamps?.[0];
  return { handlerName: stamp?.handlerName ?? handle?.name ?? '<anonymous>', cors: stamp?.cors };
}

/**
 * Which controller method each Nest route handler serves, by the name Nest gives the handler ("Controller.method"),
 * for a platform whose adapter wraps handlers without their metadata (Fastify's, for paths with parameters).
 * `nest` is false for a handler no controller method stamped (a route registered outside Nest).
 */
export function routeOfNamed(discovery: DiscoveryService, scanner: MetadataScanner): (handle: Function) => RouteMatch & { nest: boolean } {
  const byName = new Map<string, RouteMatch>();
  for (const wrapper of discovery.getControllers()) {
    const { metatype, instance } = wrapper;
    if (!metatype || !instance) continue;
    const prototype = Object.getPrototypeOf(instance) as Record<string, Function>;
    for (const methodName of scanner.getAllMethodNames(prototype)) {
      const handlerName = `${wrapper.name}.${methodName}`;
      const stamp = (Reflect.getOwnMetadata(ROUTE_STAMP, prototype[methodName]!) as RouteMatch[] | undefined)?.find((s) => s.handlerName === handlerName);
      if (stamp && !byName.has(handlerName)) byName.set(handlerName, stamp);
    }
  }
  return (handle) => {
    const stamped = Reflect.getMetadata(ROUTE_STAMP, handle) !== undefined;
    const route = stamped ? routeOf(handle) : byName.get(handle.name);
    return route ? { ...route, nest: true } : { handlerName: handle.name || '<anonymous>', nest: false };
  };
}
