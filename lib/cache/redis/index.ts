// First: stops the process if the package's other build is already loaded (see single-build.ts).
import '../../single-build.js';
export { DEFAULT_INVALIDATION_CHANNEL, RedisCorsInvalidationBus, type RedisCorsInvalidationBusOptions } from './redis-invalidation.bus.js';
