import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// This file sits directly in src/ (and dist/ after tsc), so '../' is sample-app/ either way.
export const SAMPLE_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const SPA_DIR = join(SAMPLE_ROOT, 'spa');
export const DEFAULT_CLIENTS_FILE = join(SAMPLE_ROOT, 'config', 'clients.json');

/** oidc-client-ts's browser bundle (an IIFE exposing the global `oidc`), served to the SPA as is. */
export const OIDC_CLIENT_BUNDLE = join(
  dirname(createRequire(import.meta.url).resolve('oidc-client-ts/package.json')),
  'dist/browser/oidc-client-ts.min.js',
);
