// The package ships an ES module build (dist/) and a CommonJS build (dist/cjs/) so that CommonJS apps and their
// Jest (Nest 11, ts-jest) can require it. If one process loads both, each brings its own classes and injection
// tokens and Nest matches neither with the other (a provider registered by one is "not found" by the other), so
// the second build to load stops the process here, at startup, with what to do instead.
// Every entry point imports this module first.

import { fileURLToPath } from 'node:url';

const LOADED = Symbol.for('nest-identity-cors:loaded-build');

interface LoadedBuild {
  format: 'CommonJS' | 'ES module';
  where: string;
}

// __filename exists only in CommonJS; the ES module build (and the sources under Jest) has no such binding, and
// cannot name import.meta either (the same source compiles to CommonJS), so it reads its file from a stack frame.
const thisBuild: LoadedBuild =
  typeof __filename === 'string' ? { format: 'CommonJS', where: __filename } : { format: 'ES module', where: moduleFile(new Error().stack) };

export function moduleFile(stack: string | undefined): string {
  const url = stack?.match(/file:\/\/[^\s)]*?single-build\.(?:js|ts)/)?.[0];
  return url === undefined ? 'its dist/ folder' : fileURLToPath(url);
}

export function checkSingleBuild(registry: Record<symbol, unknown>, build: LoadedBuild): void {
  const first = registry[LOADED] as LoadedBuild | undefined;
  if (first === undefined) {
    registry[LOADED] = build;
    return;
  }
  if (first.format === build.format) return;
  const [esm, cjs] = first.format === 'ES module' ? [first, build] : [build, first];
  throw new Error(
    `nest-identity-cors was loaded twice in one process: as an ES module (${esm.where}) and as CommonJS (${cjs.where}), ` +
      `${first.format} first. The two copies have different classes and injection tokens, so Nest would not match one with the other. ` +
      `Load it one way only: in an ES module app ("type": "module", or .mjs) use import everywhere, never require() or createRequire() of it; ` +
      `in a CommonJS app use require() (TypeScript with "module": "commonjs", or "nodenext" in a package without "type": "module") and no import() of it; ` +
      `in Jest, run the app's tests in the same mode as the app.`,
  );
}

checkSingleBuild(globalThis as unknown as Record<symbol, unknown>, thisBuild);
