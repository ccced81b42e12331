// The library's suite against Nest 11: the project's Jest set-up, with @nestjs/* taken from this folder's install
// (`npm install --prefix compat/nest11-suite` once, then `npm run test:nest11`). Nest 11 is CommonJS; the suite's
// ES modules import it as they import Nest 12.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import config, { projects } from '../../jest.config.js';

const nest11 = join(import.meta.dirname, 'node_modules', '@nestjs');
if (!existsSync(join(nest11, 'core'))) throw new Error(`Nest 11 is not installed in ${nest11}: run npm install --prefix compat/nest11-suite first.`);

const rootDir = join(import.meta.dirname, '..', '..');

// The project "express" only: this folder installs no Nest 11 FastifyAdapter for the project "fastify".
export default {
  ...config,
  rootDir,
  projects: [
    {
      ...projects.express,
      rootDir,
      moduleNameMapper: {
        [`^@nestjs/(common|core|testing|typeorm)$`]: `${nest11}/$1`,
        ...projects.express.moduleNameMapper,
      },
    },
  ],
};
