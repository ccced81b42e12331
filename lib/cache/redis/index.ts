export { DEFAULT_INVALIDATION_CHANNEL, RedisCorsInvalidationBus, type RedisCorsInvalidationBusOptions } from './redis-invalidation.bus.js';
