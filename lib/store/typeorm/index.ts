export { CORS_TYPEORM_ENTITIES, CorsClientEntity, CorsClientOriginEntity } from './cors-client.entity.js';
export { TypeOrmClientStore, type TypeOrmClientStoreOptions } from './typeorm-client.store.js';
export { TypeOrmCorsPolicyService } from './typeorm-cors-policy.service.js';
