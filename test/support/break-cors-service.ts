import type { INestApplication } from '@nestjs/common';
import { CorsService } from 'nest-identity-cors';

/** Makes one CorsService method of the app throw, counting its calls, until restore() gives the prototype's back. */
export function breakCorsService(app: INestApplication, method: 'preflightHeaders' | 'applyAccessControl') {
  const cors = app.get(CorsService);
  let calls = 0;
  cors[method] = () => {
    calls += 1;
    throw new Error('boom');
  };
  return { calls: () => calls, restore: () => delete (cors as Partial<CorsService>)[method] };
}
