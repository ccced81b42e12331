import { ICorsPolicyService, IdentityCorsOptionsError } from 'nest-identity-cors';
import { SampleConfigError, bootstrap, optionsFromEnv } from './bootstrap.js';
import { ClientsFileError } from './clients/clients-file.js';
import { describeClientStore } from './clients/client-store.js';

// npm run start:sample: the identity server on PORT, the browser app on each of SPA_PORTS.
try {
  const options = optionsFromEnv(process.env);
  const sample = await bootstrap(options);
  const cors = sample.app.get<ICorsPolicyService>(ICorsPolicyService);
  console.log(`\nIdentity server: ${sample.issuer}  (discovery: ${sample.issuer}/.well-known/openid-configuration)`);
  console.log(`Nest platform: ${sample.app.getHttpAdapter().getType()}  (PLATFORM=express or fastify)`);
  console.log(`CORS clients: ${describeClientStore(options.clientStore, options.database)}`);
  for (const origin of sample.spaOrigins) {
    // ask the library, so the label matches what the browser will see
    console.log(
      (await cors.isOriginAllowed(origin))
        ? `Browser app: ${origin}  allowed by the clients file: log in as alice / alice`
        : `Browser app: ${origin}  not in any client's allowedCorsOrigins: discovery fails with a CORS error`,
    );
  }
  const stop = () => void sample.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  console.error(`\nThe sample did not start:\n${explain(error)}`);
  process.exit(1);
}

/** A configuration or system error's message says what to fix; anything else is a bug, whose stack helps. */
function explain(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const known = error instanceof SampleConfigError || error instanceof ClientsFileError || error instanceof IdentityCorsOptionsError;
  return known || typeof (error as NodeJS.ErrnoException).code === 'string' ? error.message : (error.stack ?? error.message);
}
