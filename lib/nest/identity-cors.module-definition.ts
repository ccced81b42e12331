import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { CorsService } from '../core/cors.service.js';
import { CorsExplainer } from '../handler/cors-explainer.js';
import { ICorsPolicyService } from '../identity/cors-policy-service.interface.js';
import { ICorsPolicyProvider } from '../policy-lookup/cors-policy-provider.interface.js';
import { RESOLVED_CORS_OPTIONS } from './identity-cors.constants.js';
import type { IdentityCorsModuleOptions } from './identity-cors-options.interface.js';
import { identityCorsProviders, type IdentityCorsModuleExtras } from './identity-cors.providers.js';

export type { IdentityCorsModuleExtras } from './identity-cors.providers.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<IdentityCorsModuleOptions>({ moduleName: 'IdentityCors' })
    .setClassMethodName('forRoot')
    .setExtras<IdentityCorsModuleExtras>({ isGlobal: false }, (definition, extras): DynamicModule => ({
      ...definition,
      global: extras.isGlobal,
      providers: [...(definition.providers ?? []), ...identityCorsProviders(MODULE_OPTIONS_TOKEN, extras)],
      exports: [ICorsPolicyService, ICorsPolicyProvider, CorsService, CorsExplainer, RESOLVED_CORS_OPTIONS],
    }))
    .build();
