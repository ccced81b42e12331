import { bootstrap, optionsFromEnv } from './bootstrap.js';

// npm run start:sample: the identity server on PORT, the browser app on SPA_PORTS (allowed, denied).
try {
  const sample = await bootstrap(optionsFromEnv(process.env));
  const [allowed, ...denied] = sample.spaOrigins;
  console.log(`\nIdentity server: ${sample.issuer}  (discovery: ${sample.issuer}/.well-known/openid-configuration)`);
  console.log(`Browser app, allowed origin:  ${allowed}  (log in as alice / alice)`);
  for (const origin of denied) console.log(`Browser app, denied origin:   ${origin}  (discovery fails with a CORS error)`);
  const stop = () => void sample.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  console.error(`\nThe sample did not start:\n${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
