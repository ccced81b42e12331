#!/usr/bin/env node
// The `nest-identity-cors` bin (package.json "bin"): the command line itself is lib/cli/cli.ts.
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
