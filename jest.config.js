// Nest 12 is ESM-only, so Jest runs in its native ESM mode (npm test passes
// --experimental-vm-modules) and @swc/jest strips types and emits decorator metadata.
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

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^nest-identity-cors$': '<rootDir>/lib/index.ts',
    '^nest-identity-cors/typeorm$': '<rootDir>/lib/store/typeorm/index.ts',
    '^nest-identity-cors/redis$': '<rootDir>/lib/cache/redis/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  testTimeout: 30000,
};
