// After `npm install git+file://<this repository>`: both builds are there and the package loads.
const { existsSync } = require('node:fs');
const { dirname, join } = require('node:path');

const dir = dirname(require.resolve('nest-identity-cors/package.json'));
for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts'])
  if (!existsSync(join(dir, file))) throw new Error(`the package installed from git has no ${file}`);
if (typeof require('nest-identity-cors').IdentityCorsModule !== 'function') throw new Error('the package installed from git exports no IdentityCorsModule');
