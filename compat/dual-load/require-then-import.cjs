// A CommonJS app requires the package (CommonJS build) and runs; then something import()s it (ES module build).
const { serveCors, expectRefused } = require('./app.cjs');

(async () => {
  await serveCors(require('nest-identity-cors'));
  const second = await import('nest-identity-cors').catch((error) => expectRefused(error, 'CommonJS'));
  if (second) throw new Error('import() loaded the ES module build beside the CommonJS build without a word');
  console.log('CommonJS build, then import(): refused with the message');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
