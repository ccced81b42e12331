import { Logger, type Provider } from '@nestjs/common';
import { ModuleRef, ModulesContainer } from '@nestjs/core';
import { CorsService } from '../core/cors.service.js';
import { CorsExplainer } from '../handler/cors-explainer.js';
import { CorsHandler } from '../handler/cors-handler.js';
import { CorsRouteTable } from '../handler/cors-route-table.js';
import { ICorsPolicyService } from '../identity/cors-policy-service.interface.js';
import { DefaultCorsPolicyService } from '../identity/default-cors-policy.service.js';
import { IdentityCorsPolicyProvider } from '../identity/identity-cors-policy.provider.js';
import { InMemoryCorsPolicyService } from '../identity/in-memory-cors-policy.service.js';
import { ICorsPolicyProvider } from '../policy-lookup/cors-policy-provider.interface.js';
import { DefaultCorsPolicyProvider } from '../policy-lookup/default-cors-policy.provider.js';
import { ExpressCorsMiddleware } from '../platform/express/express-cors.middleware.js';
import { FastifyCorsEdge } from '../platform/fastify/fastify-cors.hook.js';
import { CorsBootstrap } from './cors-bootstrap.js';
import { resolveHostServices, type HostServices } from './host-services.js';
import { CORS_MODULE_OVERRIDES, HOST_CORS_POLICY_PROVIDER, IDENTITY_CORS_HOST_SERVICES, RESOLVED_CORS_OPTIONS } from './identity-cors.constants.js';
import type { ProviderOverride } from './identity-cors-options.interface.js';
import { IdentityCorsOptionsError, resolveOptions, type ResolvedCorsOptions } from './identity-cors-options.validation.js';

/** Given beside the options to forRoot and forRootAsync (not from the async factory), as Nest's extras are. */
export interface IdentityCorsModuleExtras {
  /** Register the module globally. Default false. */
  isGlobal?: boolean;
  /** The host's own ICorsPolicyService. Wins over one registered in a host module and over the built-in ones. */
  corsPolicyService?: ProviderOverride<ICorsPolicyService>;
  /** The host's own ICorsPolicyProvider, which the identity provider decorates. */
  policyProvider?: ProviderOverride<ICorsPolicyProvider>;
}

/** Which overrides were given to forRoot/forRootAsync. */
export interface CorsModuleOverrides {
  corsPolicyService: boolean;
  policyProvider: boolean;
}

function asProvider<T>(provide: symbol, override: ProviderOverride<T>, option: 'corsPolicyService' | 'policyProvider'): Provider {
  if (typeof override === 'function') return { provide, useClass: override };
  if (typeof override !== 'object' || override === null || !PROVIDER_KEYS.some((key) => key in override)) {
    // An instance given as it is (its methods, no provider key) is the usual slip: Nest would name only a symbol.
    throw new IdentityCorsOptionsError([
      `${option}: ${typeof override === 'object' && override !== null ? 'an object with none of useClass, useValue, useFactory, useExisting' : `'${String(override)}' is not a provider`}: give an instance as ${option}: { useValue: instance }, or a class as ${option}: YourClass`,
    ]);
  }
  return { provide, ...override } as Provider;
}
const PROVIDER_KEYS = ['useClass', 'useValue', 'useFactory', 'useExisting'];

/** The built-in ICorsPolicyService: clients when configured, else the fixed allow-list. */
export function builtInCorsPolicyService(options: ResolvedCorsOptions): ICorsPolicyService {
  const { clients, allowedOrigins, allowAll } = options.identity;
  if (clients) return new InMemoryCorsPolicyService(clients, new Logger(InMemoryCorsPolicyService.name));
  return new DefaultCorsPolicyService(new Logger(DefaultCorsPolicyService.name), { allowedOrigins, allowAll });
}

/** Every provider of IdentityCorsModule, as `@nestjs/throttler` keeps its own: one place to read how the module is wired. */
export function identityCorsProviders(optionsToken: string | symbol, extras: IdentityCorsModuleExtras): Provider[] {
  return [
    { provide: RESOLVED_CORS_OPTIONS, useFactory: resolveOptions, inject: [optionsToken] },
    { provide: CORS_MODULE_OVERRIDES, useValue: { corsPolicyService: !!extras.corsPolicyService, policyProvider: !!extras.policyProvider } satisfies CorsModuleOverrides },
    extras.corsPolicyService
      ? asProvider(ICorsPolicyService, extras.corsPolicyService, 'corsPolicyService')
      : { provide: ICorsPolicyService, useFactory: builtInCorsPolicyService, inject: [RESOLVED_CORS_OPTIONS] },
    extras.policyProvider
      ? asProvider(HOST_CORS_POLICY_PROVIDER, extras.policyProvider, 'policyProvider')
      : {
          provide: HOST_CORS_POLICY_PROVIDER,
          useFactory: (options: ResolvedCorsOptions) => new DefaultCorsPolicyProvider(options.policies, options.defaultPolicy),
          inject: [RESOLVED_CORS_OPTIONS],
        },
    {
      // The module's own services, or those a host module registers (resolved once Nest has built them).
      provide: IDENTITY_CORS_HOST_SERVICES,
      useFactory: (modules: ModulesContainer, own: ModuleRef, options: ResolvedCorsOptions, overrides: CorsModuleOverrides, policyService: ICorsPolicyService, inner: ICorsPolicyProvider) =>
        resolveHostServices(modules, own, IDENTITY_CORS_HOST_SERVICES, { policyService, inner }, options, overrides),
      inject: [ModulesContainer, ModuleRef, RESOLVED_CORS_OPTIONS, CORS_MODULE_OVERRIDES, ICorsPolicyService, HOST_CORS_POLICY_PROVIDER],
    },
    {
      // Built once, with the services it decorates: nothing replaces them later.
      provide: ICorsPolicyProvider,
      useFactory: (options: ResolvedCorsOptions, services: HostServices) => new IdentityCorsPolicyProvider(options.identity, services.policyService, services.inner),
      inject: [RESOLVED_CORS_OPTIONS, IDENTITY_CORS_HOST_SERVICES],
    },
    { provide: CorsService, useFactory: () => new CorsService() },
    {
      provide: CorsRouteTable,
      useFactory: (options: ResolvedCorsOptions) => new CorsRouteTable(options.identity.corsPaths, options.identity.corsPolicyName),
      inject: [RESOLVED_CORS_OPTIONS],
    },
    {
      provide: CorsHandler,
      useFactory: (provider: ICorsPolicyProvider, cors: CorsService, options: ResolvedCorsOptions) => new CorsHandler(provider, cors, options.policyTimeout),
      inject: [ICorsPolicyProvider, CorsService, RESOLVED_CORS_OPTIONS],
    },
    {
      provide: CorsExplainer,
      useFactory: (handler: CorsHandler, cors: CorsService, routes: CorsRouteTable) => new CorsExplainer(handler, cors, routes),
      inject: [CorsHandler, CorsService, CorsRouteTable],
    },
    {
      provide: ExpressCorsMiddleware,
      useFactory: (handler: CorsHandler, cors: CorsService, routes: CorsRouteTable, options: ResolvedCorsOptions) =>
        new ExpressCorsMiddleware(handler, cors, routes, options.handleBeforeExpress),
      inject: [CorsHandler, CorsService, CorsRouteTable, RESOLVED_CORS_OPTIONS],
    },
    {
      provide: FastifyCorsEdge,
      useFactory: (handler: CorsHandler, cors: CorsService, routes: CorsRouteTable, options: ResolvedCorsOptions) =>
        new FastifyCorsEdge(handler, cors, routes, options.handleBeforeExpress),
      inject: [CorsHandler, CorsService, CorsRouteTable, RESOLVED_CORS_OPTIONS],
    },
    CorsBootstrap,
  ];
}
