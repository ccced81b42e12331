import { distinctParamNames, fastifyPath, pathOptionsOf } from '../../lib/platform/fastify/fastify-routes.js';

describe('distinctParamNames (the shadow route of a Nest route on Fastify)', () => {
  it.each([
    ['/a/b', '/a/b'],
    ['/a/:id', '/a/:id'],
    ['/projects/:id/tasks/:id', '/projects/:id/tasks/:id~2'],
    ['/a/:id-:id.:id', '/a/:id-:id~2.:id~3'],
    ['/t/::literal/:x/:x', '/t/::literal/:x/:x~2'],
    ['/r/:id(^\\d+:\\d+$)/:id', '/r/:id(^\\d+:\\d+$)/:id~2'],
    ['/r/:id(a(b)c)/:id', '/r/:id(a(b)c)/:id~2'],
  ])('%s → %s', (url, expected) => {
    expect(distinctParamNames(url)).toBe(expected);
  });
});

describe("fastifyPath (the part of a request target Fastify's router routes on)", () => {
  it.each([
    ['/a/b', '/a/b'],
    ['/a/b?x=/c#d', '/a/b'],
    ['/a/b#x?y', '/a/b'],
    // Kept as find-my-way keeps it, where Express's parseurl makes '/a/b/c' of it.
    ['/a\\b/c#x', '/a\\b/c'],
    ['/a%3Fb?c', '/a%3Fb'],
    // Other forms go to the shadow router whole: it reads them as Fastify's router does.
    ['http://h/a\\b?x', 'http://h/a\\b?x'],
    ['*', '*'],
  ])('%s → %s', (url, expected) => {
    expect(fastifyPath(url)).toBe(expected);
  });
  it('has no path for a request without a target', () => {
    expect(fastifyPath(undefined)).toBeUndefined();
  });
});

describe("pathOptionsOf (a Fastify instance's path options, as its router was built with them)", () => {
  const defaults = { caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, maxParamLength: 100, useSemicolonDelimiter: false, allowUnsafeRegex: false };
  it('reads options given under routerOptions', () => {
    expect(pathOptionsOf({ ...defaults, routerOptions: { ...defaults, caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 7 } })).toMatchObject({ caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 7 });
  });
  it('reads top-level options when routerOptions was not given, or holds only defaults for them', () => {
    expect(pathOptionsOf({ ...defaults, caseSensitive: false, ignoreDuplicateSlashes: true, maxParamLength: 5 })).toMatchObject({ caseSensitive: false, ignoreDuplicateSlashes: true, maxParamLength: 5 });
    expect(pathOptionsOf({ ...defaults, maxParamLength: 5, useSemicolonDelimiter: true, routerOptions: { ...defaults, ignoreTrailingSlash: true } })).toMatchObject({
      maxParamLength: 5,
      useSemicolonDelimiter: true,
      ignoreTrailingSlash: true,
      caseSensitive: true,
    });
  });
});
