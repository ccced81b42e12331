import 'reflect-metadata';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { TestingModuleBuilder } from '@nestjs/testing';

/** Builds and initializes a real Nest app (Express) from module metadata; `configure` may override providers or set a prefix. */
export async function createApp(
  metadata: ModuleMetadata,
  options: {
    override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
    configure?: (app: INestApplication) => void;
  } = {},
): Promise<INestApplication> {
  let builder = Test.createTestingModule(metadata);
  if (options.override) builder = options.override(builder);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ logger: false });
  options.configure?.(app);
  await app.init();
  return app;
}
