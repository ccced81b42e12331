// First: stops the process if the package's other build is already loaded (see single-build.ts).
import '../../single-build.js';
export { CORS_TYPEORM_ENTITIES, CorsClientEntity, CorsClientOriginEntity } from './cors-client.entity.js';
export { TypeOrmClientStore, type TypeOrmClientStoreOptions } from './typeorm-client.store.js';
export { TypeOrmCorsPolicyService } from './typeorm-cors-policy.service.js';
