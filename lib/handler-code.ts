import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LAMBDA_BUNDLE } from './bundling.js';

/**
 * Where each function's code comes from, decided by where this module runs:
 *
 * - **the installed package** (compiled, `dist/lib/`): the bundles `npm run build` made from the
 *   handlers with lib/bundling.ts's esbuild options and `npm pack` shipped in `dist/bundles/`
 *   (beside `dist/lib/`), deployed as they are with `Code.fromAsset`. Nothing is built in the
 *   consumer's project, so its lock file, layout and esbuild do not matter.
 * - **the TypeScript sources** (this repository, `lib/` run by tsx or vitest): there is no
 *   `bundles/` beside `lib/`, so NodejsFunction bundles the handler in `lambdas/` with the local
 *   esbuild at synth, and a change to the runtime code is deployed without a build step.
 *
 * The presence of the bundles decides, not a flag: the two layouts cannot be mixed up.
 */

/** The folder holding `lib/` (the repository), or `dist/` in the installed package. */
export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

/** The prebuilt bundles, one folder per function: only the package has them. */
export const PREBUILT_BUNDLES_DIR = join(PROJECT_ROOT, 'bundles');

/** Each function's handler in the TypeScript sources (lib/ never imports them: paths only). */
export const DEFAULT_ENTRIES = {
  verify: 'lambdas/verify/handler.ts',
  ingest: 'lambdas/ingest/handler.ts',
  callback: 'lambdas/callback/handler.ts',
  traffic: 'lambdas/traffic/handler.ts',
  history: 'lambdas/history/handler.ts',
  gate: 'lambdas/gate/handler.ts',
  sentinel: 'lambdas/sentinel/handler.ts',
} as const;
export type FunctionName = keyof typeof DEFAULT_ENTRIES;

export type HandlerCode =
  /** A folder whose `index.mjs` exports `handler`, deployed as it is. */
  | { readonly kind: 'prebuilt'; readonly directory: string }
  /** A TypeScript handler NodejsFunction bundles at synth. */
  | { readonly kind: 'source'; readonly entry: string };

/** Whether this module runs from the installed package (true) or the TypeScript sources. */
export function isInstalledPackage(): boolean {
  return existsSync(PREBUILT_BUNDLES_DIR);
}

/** The function's default code: its prebuilt bundle in the package, its handler in the sources; undefined when neither exists. */
export function defaultHandlerCode(name: FunctionName): HandlerCode | undefined {
  const directory = join(PREBUILT_BUNDLES_DIR, name);
  if (existsSync(join(directory, LAMBDA_BUNDLE.outputFile))) return { kind: 'prebuilt', directory };
  const entry = join(PROJECT_ROOT, DEFAULT_ENTRIES[name]);
  return existsSync(entry) ? { kind: 'source', entry } : undefined;
}
