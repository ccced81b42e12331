import { type DynamicModule, Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, HttpAdapterHost, MetadataScanner, Reflector } from '@nestjs/core';
import { ExpressCorsMiddleware } from '../platform/express/express-cors.middleware.js';
import { FastifyCorsEdge, isFastifyAdapter } from '../platform/fastify/fastify-cors.hook.js';
import { mountCors } from './mount-cors.js';
import { ConfigurableModuleClass, type IdentityCorsModuleExtras, type OPTIONS_TYPE } from './identity-cors.module-definition.js';
import { stampControllers } from './route-stamp.js';

/**
 * Import once in AppModule: mounts CORS for every path (before guards, so error responses carry CORS
 * headers too), answers preflights, and wires the identity layer over the host's policy provider.
 * Its providers are in identity-cors.providers.ts; what it does once routes exist, in CorsBootstrap.
 */
@Module({ imports: [DiscoveryModule] })
export class IdentityCorsModule extends ConfigurableModuleClass implements NestModule {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly express: ExpressCorsMiddleware,
    private readonly fastify: FastifyCorsEdge,
  ) {
    super();
    // Under NestFactory.create the adapter is known as modules are built: on Fastify, routes are recorded from now
    // on, so that those of plugins the app registers before app.init() are known too.
    const httpAdapter = adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
    if (httpAdapter !== undefined && httpAdapter !== null && isFastifyAdapter(httpAdapter)) fastify.watchRoutes(httpAdapter);
  }

  /** `forRoot(options, extras)` is `forRoot({ ...options, ...extras })`: extras may be given beside the options or among them. */
  static override forRoot(options: typeof OPTIONS_TYPE = {}, extras: IdentityCorsModuleExtras = {}): DynamicModule {
    return super.forRoot({ ...options, ...extras });
  }

  /** Runs before Nest registers routes: stamp controller methods, then mount (unless useIdentityCors mounted early). */
  configure(_consumer: MiddlewareConsumer): void {
    stampControllers(this.discovery, this.scanner, this.reflector);
    mountCors(this.adapterHost.httpAdapter, { express: this.express, fastify: this.fastify });
  }
}
