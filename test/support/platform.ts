import type { INestApplication, NestApplicationOptions, Type } from '@nestjs/common';
import { ApplicationConfig, NestFactory } from '@nestjs/core';
import { TestingModule } from '@nestjs/testing';

/**
 * The HTTP platform the e2e suites build their Nest apps on. Jest's project "express" leaves NEST_PLATFORM unset;
 * the project "fastify" runs the same suites with NEST_PLATFORM=fastify (test/support/platform-fastify.setup.ts).
 */
export type Platform = 'express' | 'fastify';

function platformFromEnv(value: string | undefined): Platform {
  if (value === undefined || value === '' || value === 'express') return 'express';
  if (value === 'fastify') return 'fastify';
  throw new Error(`NEST_PLATFORM '${value}' is not a platform: use 'express' or 'fastify' (or run one Jest project: npm test -- --selectProjects fastify)`);
}

export const PLATFORM: Platform = platformFromEnv(process.env.NEST_PLATFORM);

/**
 * Whether the Nest the suite runs on names route handlers "Controller.method" (Nest 12, unless it registers routes
 * late; Nest 11 never does): told by a method Nest 12's ApplicationConfig has and Nest 11's has not.
 */
export const NEST_NAMES_ROUTE_HANDLERS = typeof (ApplicationConfig.prototype as { getRouteConflictPolicy?: unknown }).getRouteConflictPolicy === 'function';

/**
 * The value for the platform the suite runs on: where the platforms themselves answer differently (RULES 23), a spec
 * states both expectations side by side, e.g. `onPlatform({ express: 200, fastify: 404 })`.
 */
export function onPlatform<T>(values: Record<Platform, T>): T {
  return values[PLATFORM];
}

/**
 * A Nest app on the suite's platform, from a compiled testing module (`moduleRef.createNestApplication`) or a
 * module class (`NestFactory.create`); not initialized: see initApp. On Express, exactly the call the suites made
 * before Fastify (no adapter given); on Fastify, a fresh FastifyAdapter per app.
 */
export async function createNestApp(from: TestingModule | Type, options: NestApplicationOptions = {}): Promise<INestApplication> {
  // Loaded only for Fastify runs: the project "express" (and the Nest 11 suite, which maps no FastifyAdapter) never loads it.
  const adapter = PLATFORM === 'fastify' ? new (await import('@nestjs/platform-fastify')).FastifyAdapter() : undefined;
  let app: INestApplication;
  if (from instanceof TestingModule) app = adapter ? from.createNestApplication(adapter, options) : from.createNestApplication(options);
  else app = adapter ? await NestFactory.create(from, adapter, options) : await NestFactory.create(from, options);
  // A suite that passes on the wrong platform proves nothing about this one.
  const type = app.getHttpAdapter().getType();
  if (type !== PLATFORM) throw new Error(`the app runs on ${type}, not on ${PLATFORM} (NEST_PLATFORM)`);
  return app;
}

/**
 * `app.init()`, then, on Fastify, waits until Fastify is ready: it builds its router and runs its onReady hooks
 * there, and only then serves requests given to its server (supertest's request(app.getHttpServer())).
 * `app.listen()` does both itself.
 */
export async function initApp(app: INestApplication): Promise<INestApplication> {
  await app.init();
  if (PLATFORM === 'fastify') await (app.getHttpAdapter().getInstance() as { ready(): PromiseLike<unknown> }).ready();
  return app;
}
