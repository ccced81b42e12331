import { CorsRouteTable } from '../../lib/handler/cors-route-table.js';
import type { RouteMatch, RouteMatcher } from '../../lib/handler/route-target.js';
import { CorsPathSet } from '../../lib/identity/cors-paths.js';

// The route table answers which policy a method and path get; the platform's router (here a fake that
// counts its calls) answers which route serves them.

const items: RouteMatch = { handlerName: 'ItemsController.list', cors: { enabled: true, policyName: 'a' } };
const byDefault: RouteMatch = { handlerName: 'ItemsController.create', cors: { enabled: true } };
const secret: RouteMatch = { handlerName: 'ItemsController.secret', cors: { enabled: false } };
const health: RouteMatch = { handlerName: 'HealthController.check' };

/** A router that serves `routes` by `METHOD path`, counting how often it is asked. */
class CountingMatcher implements RouteMatcher {
  calls = 0;
  constructor(private readonly served: Record<string, RouteMatch>) {}
  get routes() {
    return [...new Set(Object.values(this.served))];
  }
  match(method: string, path: string) {
    this.calls++;
    return this.served[`${method} ${path}`];
  }
}

const served = {
  'GET /items': items,
  'POST /items': byDefault,
  'GET /items/secret': secret,
  'GET /health': health,
  // a host route on an identity path: the identity policy still answers there
  'POST /connect/token': items,
};

function table(global?: { name?: string }) {
  const routes = new CorsRouteTable(new CorsPathSet(['/connect/token']), 'IdentityServer');
  const matcher = new CountingMatcher(served);
  routes.use(matcher, global);
  return { routes, matcher };
}

describe('CorsRouteTable', () => {
  it('answers the identity paths with the identity policy, before asking the router', () => {
    const { routes, matcher } = table({ name: 'global' });
    expect(routes.resolve('POST', '/connect/token')).toEqual({ kind: 'identity', policyName: 'IdentityServer' });
    expect(routes.resolve('GET', '/Connect/Token/')).toEqual({ kind: 'identity', policyName: 'IdentityServer' });
    expect(matcher.calls).toBe(0);
  });

  it("gives a route its own @EnableCors policy (a name, or the default policy), whatever the global policy", () => {
    const { routes } = table({ name: 'global' });
    expect(routes.resolve('GET', '/items')).toEqual({ kind: 'route', policyName: 'a', handlerName: 'ItemsController.list' });
    expect(routes.resolve('POST', '/items')).toEqual({ kind: 'route', policyName: undefined, handlerName: 'ItemsController.create' });
  });

  it('gives a route without CORS metadata the global policy, and no CORS without one', () => {
    expect(table({ name: 'global' }).routes.resolve('GET', '/health')).toEqual({ kind: 'global', policyName: 'global', handlerName: 'HealthController.check' });
    expect(table({}).routes.resolve('GET', '/health')).toEqual({ kind: 'global', policyName: undefined, handlerName: 'HealthController.check' });
    expect(table().routes.resolve('GET', '/health')).toBeNull();
  });

  it('gives a path no route serves the global policy as unrouted, and no CORS without one', () => {
    expect(table({ name: 'global' }).routes.resolve('GET', '/nowhere')).toEqual({ kind: 'unrouted', policyName: 'global' });
    expect(table().routes.resolve('GET', '/nowhere')).toBeNull();
  });

  it('answers @DisableCors with no CORS, even under a global policy', () => {
    expect(table({ name: 'global' }).routes.resolve('GET', '/items/secret')).toBeNull();
  });

  it('answers no CORS for a request without a path, without asking the router', () => {
    const { routes, matcher } = table({ name: 'global' });
    expect(routes.resolve('GET', undefined)).toBeNull();
    expect(matcher.calls).toBe(0);
  });

  it('asks the router once per method and path, then answers from its cache', () => {
    const { routes, matcher } = table({ name: 'global' });
    for (let i = 0; i < 3; i++) {
      expect(routes.resolve('GET', '/items')?.kind).toBe('route');
      expect(routes.resolve('POST', '/items')?.kind).toBe('route');
      expect(routes.resolve('GET', '/nowhere')?.kind).toBe('unrouted');
    }
    expect(matcher.calls).toBe(3);
  });

  it('remembers every method Node knows on one path, more than a browser app uses (its recent ones and the rest)', () => {
    const { routes, matcher } = table({ name: 'global' });
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'SEARCH', 'QUERY'];
    const answers = methods.map((method) => routes.resolve(method, '/items'));
    for (let round = 0; round < 2; round++) {
      // Methods given as a request's are: strings of their own, equal to those remembered.
      expect(methods.map((method) => routes.resolve(` ${method}`.slice(1), '/items'))).toEqual(answers);
    }
    expect(answers.map((target) => target?.kind)).toEqual(['route', 'route', ...Array(8).fill('unrouted')]);
    expect(matcher.calls).toBe(methods.length);
  });

  it('serves no route for a method Node does not take (a preflight may ask about any token, or `get` in lower case), without asking the router', () => {
    const { routes, matcher } = table({ name: 'global' });
    for (const method of ['FROBNICATE', 'get', 'post', 'Get']) {
      for (let i = 0; i < 3; i++) expect(routes.resolve(method, '/items')).toEqual({ kind: 'unrouted', policyName: 'global' });
    }
    expect(routes.resolve('get', '/connect/token')).toBe(routes.identityTarget);
    expect(matcher.calls).toBe(0);
    expect(table().routes.resolve('get', '/items/secret')).toBeNull();
  });

  it('forgets every cached answer when it takes new routes', () => {
    const { routes, matcher } = table({ name: 'global' });
    expect(routes.resolve('GET', '/items')?.kind).toBe('route');
    const next = new CountingMatcher({ 'GET /items': secret });
    routes.use(next, { name: 'global' });
    expect(routes.resolve('GET', '/items')).toBeNull();
    expect(next.calls).toBe(1);
    expect(matcher.calls).toBe(1);
  });

  it('remembers at most 1,024 paths, dropping the oldest first', () => {
    const { routes, matcher } = table({ name: 'global' });
    for (let i = 0; i < 1025; i++) routes.resolve('GET', `/p/${i}`);
    const asked = matcher.calls;
    routes.resolve('GET', '/p/0'); // the oldest path was dropped: asked again
    expect(matcher.calls).toBe(asked + 1);
    routes.resolve('GET', '/p/1024'); // the newest is still remembered
    expect(matcher.calls).toBe(asked + 1);
  });

  it('does not remember paths longer than 1,024 characters: each is looked up, and answered, every time', () => {
    const { routes, matcher } = table({ name: 'global' });
    const long = `/items${'x'.repeat(1019)}`;
    expect(long.length).toBe(1025);
    for (let i = 0; i < 3; i++) expect(routes.resolve('GET', long)?.kind).toBe('unrouted');
    expect(matcher.calls).toBe(3);
    const longest = long.slice(0, 1024);
    for (let i = 0; i < 3; i++) routes.resolve('GET', longest);
    expect(matcher.calls).toBe(4);
  });
});
