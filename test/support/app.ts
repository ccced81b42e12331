import 'reflect-metadata';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { TestingModuleBuilder } from '@nestjs/testing';
import { checkExplainerAgreement, type ExplainerAgreement } from './explain-agreement.js';
import { createNestApp, initApp } from './platform.js';

/**
 * Builds and initializes a real Nest app (on the suite's platform: platform.ts) from module metadata; `configure` may override providers or set a prefix.
 * The CorsExplainer's answer for each request it serves is checked against the response (explain-agreement.ts).
 */
export async function createApp(
  metadata: ModuleMetadata,
  options: {
    override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
    configure?: (app: INestApplication) => void;
    /** When the CorsExplainer's answer for each request is checked against its response (see ExplainerAgreement). */
    explainerAgreement?: ExplainerAgreement;
  } = {},
): Promise<INestApplication> {
  let builder = Test.createTestingModule(metadata);
  if (options.override) builder = options.override(builder);
  const moduleRef = await builder.compile();
  const app = await createNestApp(moduleRef, { logger: false });
  options.configure?.(app);
  await initApp(app);
  // Every request the app serves is explained too, and must agree with the response (RULES 22).
  checkExplainerAgreement(app, options.explainerAgreement);
  return app;
}
