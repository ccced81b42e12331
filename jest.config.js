// Nest 12 is ESM-only, so Jest runs in its native ESM mode (npm test passes
// --experimental-vm-modules) and @swc/jest strips types and emits decorator metadata.
import { existsSync } from 'node:fs';

// The browser tests (test/browser/ and any *.browser.spec.ts) need Debian's Chromium. Without it they are left out with a note, unless
// REQUIRE_BROWSER=1 (set by CI), in which case they run and fail.
const browserTests = existsSync('/usr/bin/chromium') || process.env.REQUIRE_BROWSER === '1';
if (!browserTests) console.warn('Note: /usr/bin/chromium not found: leaving out the browser tests (test/browser, *.browser.spec.ts). Install it with apt-get install chromium.');

// The Redis fault suite acts on connections to a real Redis (there is no embedded one): without REDIS_URL it is left
// out with a note (CI sets REDIS_URL, so it runs there). The other Redis suites fall back to the in-process bus.
const redisTests = Boolean(process.env.REDIS_URL);
if (!redisTests) console.warn('Note: REDIS_URL not set: leaving out test/e2e/redis-bus-faults.spec.ts (it needs a real Redis). Set REDIS_URL=redis://127.0.0.1:6379 to run it.');

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
  },
];

/** One project's settings; the projects below differ in the files they run and the platform their apps use. */
const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^nest-identity-cors$': '<rootDir>/lib/index.ts',
    '^nest-identity-cors/typeorm$': '<rootDir>/lib/store/typeorm/index.ts',
    '^nest-identity-cors/redis$': '<rootDir>/lib/cache/redis/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  setupFiles: ['<rootDir>/test/support/nest-log-levels.ts'],
  // The in-app explainer must agree with every response a createApp app sends (RULES 22).
  setupFilesAfterEnv: ['<rootDir>/test/support/explain-agreement.setup.ts'],
  testPathIgnorePatterns: [
    '/node_modules/',
    ...(browserTests ? [] : ['<rootDir>/test/browser/', '\\.browser\\.spec\\.ts$']),
    ...(redisTests ? [] : ['<rootDir>/test/e2e/redis-bus-faults\\.spec\\.ts$']),
  ],
  testTimeout: 30000,
};

// The suites that test Express itself (the top of each file says why): the project "fastify" leaves them out.
const expressOnly = ['<rootDir>/test/e2e/before-express.spec.ts', '<rootDir>/test/e2e/middleware-layer-escape.spec.ts'];
// The suites that build Fastify apps themselves (Fastify's router options): run once, in the project "fastify".
const fastifyOnly = ['<rootDir>/test/e2e/fastify-routing.spec.ts', '<rootDir>/test/e2e/fastify-attacks.spec.ts'];

/**
 * Two projects, one set of expectations for both platforms (RULES 23): "express" runs the whole suite, as before Fastify (but for the Fastify-only suites); "fastify" runs the suites that build
 * Nest apps again on Nest's FastifyAdapter (test/support/platform.ts), against the same expectations.
 * `npm test` runs both; `npm test -- --selectProjects fastify` one of them; `npm test -- <path>` a file in each project that has it.
 */
export const projects = {
  express: { ...base, displayName: 'express', testMatch: ['<rootDir>/test/**/*.spec.ts'], testPathIgnorePatterns: [...base.testPathIgnorePatterns, ...fastifyOnly] },
  fastify: {
    ...base,
    displayName: 'fastify',
    testMatch: ['<rootDir>/test/e2e/*.spec.ts'],
    testPathIgnorePatterns: [...base.testPathIgnorePatterns, ...expressOnly],
    setupFiles: [...base.setupFiles, '<rootDir>/test/support/platform-fastify.setup.ts'],
  },
};

export default {
  testTimeout: base.testTimeout,
  projects: Object.values(projects),
};
