import { rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DEFAULT_ENTRIES, PROJECT_ROOT } from '../lib/handler-code.js';
import { writeLambdaBundles } from './lambda-bundles.js';

/**
 * `npm run build:bundles`: the prebuilt Lambda bundles the installed package deploys
 * (lib/handler-code.ts), in dist/bundles/<function>/index.mjs. Every function must have one: a
 * package missing a handler would deploy without it.
 */

const outDir = join(PROJECT_ROOT, 'dist/bundles');
rmSync(outDir, { recursive: true, force: true });
const written = await writeLambdaBundles(outDir);
const missing = Object.keys(DEFAULT_ENTRIES).filter(
  (name) => !written.some((bundle) => bundle.name === name),
);
if (missing.length > 0) {
  throw new Error(`no handler for ${missing.join(', ')}: the package needs a bundle for every function`);
}
for (const { file } of written) {
  process.stdout.write(`${relative(PROJECT_ROOT, file)}  ${Math.round(statSync(file).size / 1024)} KiB\n`);
}
