import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, MetadataScanner, ModuleRef, Reflector } from '@nestjs/core';
import type { CorsPolicy } from '../core/cors-policy.js';
import { withTimeout } from '../core/with-timeout.js';
import { CorsRouteTable } from '../handler/cors-route-table.js';
import { LOG_CONTEXT } from '../handler/log-context.js';
import { IdentityCorsPolicyProvider } from '../identity/identity-cors-policy.provider.js';
import { ICorsPolicyProvider } from '../policy-lookup/cors-policy-provider.interface.js';
import { DefaultCorsPolicyProvider } from '../policy-lookup/default-cors-policy.provider.js';
import { ExpressRoutes, expressLayers, hasExpressCorsMiddleware } from '../platform/express/express-routes.js';
import { FastifyCorsEdge } from '../platform/fastify/fastify-cors.hook.js';
import type { CorsMetadata } from '../handler/route-target.js';
import { CORS_METADATA } from './cors.decorator.js';
import { routeOfNamed } from './route-stamp.js';
import { IDENTITY_CORS_HOST_SERVICES, RESOLVED_CORS_OPTIONS } from './identity-cors.constants.js';
import { didYouMean, IdentityCorsOptionsError, type ResolvedCorsOptions } from './identity-cors-options.validation.js';
import type { HostServices } from './host-services.js';

/**
 * What IdentityCorsModule does once the app's routes exist: builds the route table from the platform's
 * router, says which services the identity provider uses (and which setting wins), checks that every policy a decorator
 * names exists, probes credentialed async predicates, and warns about `app.enableCors()` beside the module.
 */
@Injectable()
export class CorsBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(LOG_CONTEXT);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly routes: CorsRouteTable,
    private readonly fastify: FastifyCorsEdge,
    @Inject(RESOLVED_CORS_OPTIONS) private readonly options: ResolvedCorsOptions,
    @Inject(IDENTITY_CORS_HOST_SERVICES) private readonly hostServices: HostServices,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const layers = this.fastify.mounted ? undefined : expressLayers(this.adapterHost.httpAdapter.getInstance());
    if (this.fastify.mounted) {
      const routes = this.fastify.useRoutes(this.options.globalPolicy, routeOfNamed(this.discovery, this.scanner));
      for (const { method, url, first, other } of routes.conflicts) {
        this.logger.warn(
          `${method} ${url} is served by ${first} and ${other}, told apart by constraints (version, host) that a preflight does not carry, with different CORS metadata: preflights, and actual requests too (CORS is decided on the method and path), get ${first}'s. Give them the same @EnableCors/@DisableCors, or different paths.`,
        );
      }
      const handlerTimeout = (this.adapterHost.httpAdapter.getInstance() as { initialConfig?: { handlerTimeout?: number } }).initialConfig?.handlerTimeout ?? 0;
      if (handlerTimeout > 0 && handlerTimeout <= this.options.policyTimeout) {
        this.logger.warn(
          `Fastify's handlerTimeout (${handlerTimeout} ms) is not longer than policyTimeout (${this.options.policyTimeout} ms): a CORS decision that takes that long ends as Fastify's 503, without CORS headers, which a browser app cannot read. Set policyTimeout below handlerTimeout (e.g. policyTimeout: ${Math.max(1, Math.floor(handlerTimeout / 2))}).`,
        );
      }
    } else if (layers === undefined) {
      throw new Error('nest-identity-cors needs @nestjs/platform-express or @nestjs/platform-fastify (neither an Express 5 router nor a FastifyAdapter was found on the HTTP adapter).');
    } else {
      this.routes.use(new ExpressRoutes(layers), this.options.globalPolicy);
    }
    this.logHostServices();
    this.checkPolicyNames();
    await this.probeCredentialedPredicates();
    if (layers !== undefined && hasExpressCorsMiddleware(layers)) {
      this.logger.warn(
        'app.enableCors() (or NestFactory.create(..., { cors })) is active beside IdentityCorsModule. Its middleware adds its own CORS headers to every request this library denies (identity endpoints from origins they do not allow, @DisableCors routes) and answers the preflights this library leaves; with handleBeforeExpress: false it runs first and answers every preflight with its own policy. Remove enableCors() and express the same rules as a policy with the globalPolicy option.',
      );
    }
  }

  /** Says which services the identity provider was built with (see resolveHostServices), now that the app's logger is set. */
  private logHostServices(): void {
    if (!(this.moduleRef.get<ICorsPolicyProvider>(ICorsPolicyProvider) instanceof IdentityCorsPolicyProvider)) return; // replaced, e.g. by overrideProvider()
    for (const { level, message } of this.hostServices.notes) this.logger[level](message);
  }

  /**
   * With the built-in provider, every policy a decorator names must exist: fail at startup, not per request.
   * A controller-level decorator is reported once, naming the controller; a handler's naming Controller.method.
   */
  private checkPolicyNames(): void {
    const identity = this.moduleRef.get<ICorsPolicyProvider>(ICorsPolicyProvider);
    const inner = identity instanceof IdentityCorsPolicyProvider ? identity.decorated.inner : undefined;
    if (!(inner instanceof DefaultCorsPolicyProvider)) return;
    const identityName = this.options.identity.corsPolicyName;
    const names = [...this.options.policies.keys(), identityName];
    const problem = (cors: CorsMetadata | undefined, where: string): string[] => {
      if (!cors?.enabled) return [];
      if (cors.policyName === undefined) {
        return this.options.defaultPolicy
          ? []
          : [`@EnableCors() on ${where} uses the default policy, but no defaultPolicy is configured: set defaultPolicy or name a policy`];
      }
      if (cors.policyName === identityName || inner.hasPolicy(cors.policyName)) return [];
      return [
        `@EnableCors('${cors.policyName}') on ${where} names no policy: define it in policies (known: ${[...this.options.policies.keys()].join(', ') || 'none'})${didYouMean(cors.policyName, names)}`,
      ];
    };
    const problems: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const { metatype, instance } = wrapper;
      if (!metatype || !instance) continue;
      problems.push(...problem(this.reflector.get<CorsMetadata | undefined>(CORS_METADATA, metatype as Function), wrapper.name));
      const prototype = Object.getPrototypeOf(instance) as Record<string, Function>;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        problems.push(...problem(this.reflector.get<CorsMetadata | undefined>(CORS_METADATA, prototype[methodName]), `${wrapper.name}.${methodName}`));
      }
    }
    if (problems.length > 0) throw new IdentityCorsOptionsError([...new Set(problems)]);
  }

  /**
   * A policy with credentials and an isOriginAllowed predicate must not allow origins no site uses. Synchronous
   * predicates are refused when the policy is built; async ones are asked here, once, within policyTimeout
   * (a predicate that fails or does not answer in time is not refused: it would deny requests too).
   */
  private async probeCredentialedPredicates(): Promise<void> {
    const policies: Array<[string, CorsPolicy]> = [...this.options.policies].map(([name, policy]) => [`policies.${name}`, policy]);
    if (this.options.defaultPolicy && ![...this.options.policies.values()].includes(this.options.defaultPolicy)) policies.push(['defaultPolicy', this.options.defaultPolicy]);
    const problems: string[] = [];
    for (const [at, policy] of policies) {
      const problem = await withTimeout(policy.probeCredentialedPredicate(), this.options.policyTimeout, `${at}'s isOriginAllowed`).catch(() => undefined);
      if (problem) problems.push(`${at}: a policy that ${problem}`);
    }
    if (problems.length > 0) throw new IdentityCorsOptionsError(problems);
  }
}
