import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { LAMBDA_BUNDLE } from '../lib/bundling.js';
import { DEFAULT_ENTRIES, type FunctionName, PROJECT_ROOT } from '../lib/handler-code.js';

/**
 * lib/bundling.ts's esbuild definition through esbuild's JS API: what `npm run build` writes into
 * the package (dist/bundles) and what the benchmark measures. test/infra/bundling.test.ts checks
 * that it is byte for byte what CDK's NodejsFunction builds from the same definition.
 */

export type LambdaName = FunctionName;

/** The functions whose handler file exists, with its absolute path. */
export function existingHandlers(): Array<{ name: LambdaName; entry: string }> {
  return (Object.entries(DEFAULT_ENTRIES) as Array<[LambdaName, string]>)
    .map(([name, file]) => ({ name, entry: join(PROJECT_ROOT, file) }))
    .filter(({ entry }) => existsSync(entry));
}

/** The esbuild options CDK's NodejsFunction passes for an entry (lib/bundling.ts), for the JS API. */
export function lambdaBuildOptions(entry: string, outfile: string): esbuild.BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: LAMBDA_BUNDLE.platform,
    format: LAMBDA_BUNDLE.format,
    target: LAMBDA_BUNDLE.target,
    minify: LAMBDA_BUNDLE.minify,
    sourcemap: LAMBDA_BUNDLE.sourcemap,
    treeShaking: LAMBDA_BUNDLE.treeShaking,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    external: [...LAMBDA_BUNDLE.external],
    banner: { js: LAMBDA_BUNDLE.banner },
    alias: { ...LAMBDA_BUNDLE.alias },
    // NodejsFunction runs the esbuild CLI in the project root.
    absWorkingDir: PROJECT_ROOT,
    logLevel: 'silent',
  };
}

export interface WrittenBundle {
  readonly name: LambdaName;
  /** `<outDir>/<name>/index.mjs`: the folder is what `Code.fromAsset` deploys. */
  readonly file: string;
  readonly metafile: esbuild.Metafile;
}

/** Writes `<outDir>/<name>/index.mjs` for every existing handler. */
export async function writeLambdaBundles(outDir: string): Promise<WrittenBundle[]> {
  return await Promise.all(
    existingHandlers().map(async ({ name, entry }) => {
      const file = join(outDir, name, LAMBDA_BUNDLE.outputFile);
      const result = await esbuild.build({ ...lambdaBuildOptions(entry, file), metafile: true });
      return { name, file, metafile: result.metafile };
    }),
  );
}
