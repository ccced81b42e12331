// Jest project "fastify" (jest.config.js): the e2e suites build their apps on Nest's FastifyAdapter (test/support/platform.ts).
process.env.NEST_PLATFORM = 'fastify';
