import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { CorsRouteTable } from '../handler/cors-route-table.js';
import { LOG_CONTEXT } from '../handler/log-context.js';
import { ICorsPolicyService } from '../identity/cors-policy-service.interface.js';
import { IdentityCorsPolicyProvider } from '../identity/identity-cors-policy.provider.js';
import { ICorsPolicyProvider } from '../policy-lookup/cors-policy-provider.interface.js';
import { DefaultCorsPolicyProvider } from '../policy-lookup/default-cors-policy.provider.js';
import { ExpressRoutes, expressLayers, hasExpressCorsMiddleware } from '../platform/express/express-routes.js';
import { CORS_MODULE_OVERRIDES, RESOLVED_CORS_OPTIONS } from './identity-cors.constants.js';
import { IdentityCorsOptionsError, type ResolvedCorsOptions } from './identity-cors-options.validation.js';
import type { CorsModuleOverrides } from './identity-cors.providers.js';

/**
 * What IdentityCorsModule does once the app's routes exist: builds the route table from the platform's
 * router, uses the host's own services, checks that every policy a route names exists, and warns
 * about `app.enableCors()` beside the module.
 */
@Injectable()
export class CorsBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(LOG_CONTEXT);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly routes: CorsRouteTable,
    @Inject(RESOLVED_CORS_OPTIONS) private readonly options: ResolvedCorsOptions,
    @Inject(CORS_MODULE_OVERRIDES) private readonly overrides: CorsModuleOverrides,
  ) {}

  onApplicationBootstrap(): void {
    const layers = expressLayers(this.adapterHost.httpAdapter.getInstance());
    if (layers === undefined) {
      throw new Error('nest-identity-cors needs @nestjs/platform-express (an Express 5 router was not found on the HTTP adapter).');
    }
    this.routes.use(new ExpressRoutes(layers), this.options.globalPolicy);
    this.useHostServices();
    this.checkPolicyNames();
    if (hasExpressCorsMiddleware(layers)) {
      this.logger.warn(
        'app.enableCors() (or NestFactory.create(..., { cors })) is active beside IdentityCorsModule. Its middleware runs first and answers every preflight with its own policy, so identity endpoints and @EnableCors/@DisableCors routes may get the wrong CORS headers. Remove enableCors() and express the same rules as a policy with the globalPolicy option.',
      );
    }
  }

  /** A service or provider registered in a host module is used unless one was given in the module's options. */
  private useHostServices(): void {
    const identity = this.moduleRef.get<ICorsPolicyProvider>(ICorsPolicyProvider);
    if (!(identity instanceof IdentityCorsPolicyProvider)) return; // replaced, e.g. by overrideProvider()
    const hostService = this.overrides.corsPolicyService ? undefined : this.fromHostModules<ICorsPolicyService>(ICorsPolicyService, identity.decorated.policyService);
    const hostProvider = this.overrides.policyProvider ? undefined : this.fromHostModules<ICorsPolicyProvider>(ICorsPolicyProvider, identity);
    identity.use({ policyService: hostService, inner: hostProvider });
  }

  private fromHostModules<T>(token: symbol, own: unknown): T | undefined {
    const all = this.moduleRef.get<unknown, T>(token, { strict: false, each: true });
    const found = [...new Set(all)].filter((instance) => instance !== own && instance !== undefined);
    if (found.length > 1) this.logger.warn(`${token.description} is registered in ${found.length} host modules; using the first one found`);
    if (found.length > 0) this.logger.log(`Using the host's ${token.description} (${(found[0] as object).constructor?.name ?? 'anonymous'})`);
    return found[0];
  }

  /** With the built-in provider, every policy a route or the global option names must exist: fail at startup, not per request. */
  private checkPolicyNames(): void {
    const identity = this.moduleRef.get<ICorsPolicyProvider>(ICorsPolicyProvider);
    const inner = identity instanceof IdentityCorsPolicyProvider ? identity.decorated.inner : undefined;
    if (!(inner instanceof DefaultCorsPolicyProvider)) return;
    const problems = this.routes
      .requestedPolicies()
      .filter(({ policyName }) => policyName !== this.options.identity.corsPolicyName && !inner.hasPolicy(policyName))
      .map(({ handlerName, policyName }) =>
        policyName === undefined
          ? `@EnableCors() on ${handlerName} uses the default policy, but no defaultPolicy is configured: set defaultPolicy or name a policy`
          : `@EnableCors('${policyName}') on ${handlerName} names no policy: define it in policies (known: ${[...this.options.policies.keys()].join(', ') || 'none'})`,
      );
    if (problems.length > 0) throw new IdentityCorsOptionsError([...new Set(problems)]);
  }
}
