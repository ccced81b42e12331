import { BadRequestException, Body, Controller, Delete, Inject, Module, Param, Post, Put, type INestApplication, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { CachingCorsPolicyService, IdentityCorsModule, InvalidOriginError, type CachingCorsPolicyServiceOptions, type ICorsInvalidationBus, type ICorsPolicyService } from 'nest-identity-cors';
import { TypeOrmClientStore, TypeOrmCorsPolicyService } from 'nest-identity-cors/typeorm';
import { createNestApp, initApp } from './platform.js';

@Controller('connect')
class TokenController {
  @Post('token') token() { return { access_token: 't' }; }
}

/** An admin API over the store, as an identity server would have: how an operator changes a client's origins. */
@Controller('admin/clients')
class AdminController {
  constructor(@Inject(TypeOrmClientStore) private readonly store: TypeOrmClientStore) {}

  @Put(':clientId') upsert(@Param('clientId') clientId: string, @Body() body: { allowedCorsOrigins: string[]; enabled?: boolean }) {
    return this.guard(() => this.store.upsert({ clientId, ...body }));
  }
  @Post(':clientId/origins') add(@Param('clientId') clientId: string, @Body() body: { origin: string }) {
    return this.guard(() => this.store.addOrigin(clientId, body.origin));
  }
  @Delete(':clientId/origins') remove(@Param('clientId') clientId: string, @Body() body: { origin: string }) {
    return this.guard(() => this.store.removeOrigin(clientId, body.origin));
  }
  @Put(':clientId/enabled') enable(@Param('clientId') clientId: string, @Body() body: { enabled: boolean }) {
    return this.guard(() => this.store.setEnabled(clientId, body.enabled));
  }
  private async guard(write: () => Promise<unknown>) {
    try {
      return { done: await write() };
    } catch (error) {
      if (error instanceof InvalidOriginError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}

export interface InstanceOptions {
  dataSource: DataSource;
  bus: ICorsInvalidationBus;
  cache?: Omit<CachingCorsPolicyServiceOptions, 'bus'>;
  /** Wraps the database policy service (e.g. to make it slow). */
  wrap?: (service: ICorsPolicyService) => ICorsPolicyService;
  policyTimeout?: number;
  logger?: LoggerService | false;
}

/** One app instance: the identity token endpoint with the database store behind the cache, and an admin API. */
export async function startInstance(options: InstanceOptions): Promise<INestApplication> {
  const database = new TypeOrmCorsPolicyService(options.dataSource);
  const service = new CachingCorsPolicyService(options.wrap ? options.wrap(database) : database, { ttl: 15 * 60_000, ...options.cache, bus: options.bus });
  @Module({
    imports: [IdentityCorsModule.forRoot({ policyTimeout: options.policyTimeout }, { corsPolicyService: { useValue: service } })],
    controllers: [TokenController, AdminController],
    providers: [{ provide: TypeOrmClientStore, useValue: new TypeOrmClientStore(options.dataSource, { bus: options.bus }) }],
  })
  class InstanceModule {}
  const moduleRef = await Test.createTestingModule({ imports: [InstanceModule] }).compile();
  const app = await createNestApp(moduleRef, { logger: options.logger ?? false });
  await initApp(app);
  return app;
}

/** The Access-Control-Allow-Origin the token endpoint answers this origin with (undefined: denied); the request must succeed. */
export async function tokenAcao(app: INestApplication, origin: string): Promise<string | undefined> {
  const res = await request(app.getHttpServer()).post('/connect/token').set('Origin', origin);
  if (res.status !== 201) throw new Error(`token endpoint answered ${res.status}`);
  return res.headers['access-control-allow-origin'];
}

export function admin(app: INestApplication) {
  return request(app.getHttpServer());
}
