// An ES module app imports the package (ES module build) and runs; then something require()s it (CommonJS build).
import { createRequire } from 'node:module';
import * as cors from 'nest-identity-cors';

const require = createRequire(import.meta.url);
const { serveCors, expectRefused } = require('./app.cjs');
await serveCors(cors);
let second;
try {
  second = require('nest-identity-cors');
} catch (error) {
  expectRefused(error, 'ES module');
}
if (second) throw new Error('require() loaded the CommonJS build beside the ES module build without a word');
console.log('ES module build, then require(): refused with the message');
