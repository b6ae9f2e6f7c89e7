import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The one definition of how a Lambda handler becomes its deployment bundle. CDK's NodejsFunction
 * (lib/verifier-function.ts) and the benchmark (bench/bundles.ts) both build from this, so the
 * sizes and cold-import times the benchmark reports are those of what is deployed (the bundling
 * test checks the two outputs are byte for byte the same).
 *
 * Plain data on purpose: no aws-cdk-lib and no esbuild import, so the benchmark loads it cheaply.
 */

const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Bundle-time stand-ins (esbuild `--alias`), each a small module under lib/bundle-shims/ that
 * bundles to what its package would, minus code tree shaking cannot drop. Both only change what
 * goes into the bundle, not what the handlers do; test/infra/bundling.test.ts holds them to that.
 *
 * - `zod`: the `z` binding the project and Powertools parser import is zod's whole namespace
 *   re-exported, which esbuild cannot shake: every bundle carried all 50+ zod locales (≈ 255 KiB)
 *   and every zod feature. The stand-in exports zod's named exports unchanged and a `z` holding
 *   the members the bundled code reads.
 * - `@aws-sdk/credential-provider-node`: the default credential chain reduced to its first link,
 *   the environment, which is where Lambda puts the role's credentials; the other links (SSO, INI,
 *   process, web identity, metadata services) and their nested STS/SSO clients, ≈ 95 KB, never run
 *   in Lambda.
 * - `@aws-lambda-powertools/parser/envelopes/eventbridge`: the envelope imports the parser's
 *   schema barrel, which keeps every AWS event schema (SQS, S3, Cognito…, ≈ 27 KB); the stand-in
 *   is the same envelope over the EventBridge schema alone.
 * - `@aws-lambda-powertools/jmespath` (and `/functions`): Powertools idempotency evaluates its key
 *   path with a full JMESPath interpreter (≈ 23 KB); ours are dotted field paths, which the
 *   stand-in walks (and it refuses any other expression).
 * - `@smithy/core/event-streams`: loaded by the SDK's HTTP protocols only for event-stream
 *   operations, which none of our clients has (≈ 15 KB per bundle); the stand-in throws if reached.
 */
export const BUNDLE_SUBSTITUTES: Readonly<Record<string, string>> = {
  zod: join(PROJECT_ROOT, 'lib/bundle-shims/zod.mjs'),
  '@aws-lambda-powertools/parser/envelopes/eventbridge': join(
    PROJECT_ROOT,
    'lib/bundle-shims/eventbridge-envelope.mjs',
  ),
  '@aws-sdk/credential-provider-node': join(PROJECT_ROOT, 'lib/bundle-shims/credential-provider-node.mjs'),
  '@aws-lambda-powertools/jmespath': join(PROJECT_ROOT, 'lib/bundle-shims/jmespath.mjs'),
  '@aws-lambda-powertools/jmespath/functions': join(PROJECT_ROOT, 'lib/bundle-shims/jmespath-functions.mjs'),
  '@smithy/core/event-streams': join(PROJECT_ROOT, 'lib/bundle-shims/event-streams.mjs'),
};

/**
 * The esbuild settings of every function: one minified, tree-shaken ESM file for Node 24 with the
 * AWS SDK inside (the version we test is the version we run), ESM builds of dependencies preferred
 * (`module` before `main`: they shake better), and `require` defined for the CommonJS packages
 * some dependencies still pull in.
 */
export const LAMBDA_BUNDLE = {
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: false,
  treeShaking: true,
  mainFields: ['module', 'main'],
  external: [] as string[],
  banner:
    "import{createRequire as __rvCreateRequire}from'node:module';const require=__rvCreateRequire(import.meta.url);",
  alias: BUNDLE_SUBSTITUTES,
  /** What NodejsFunction names the output of an ESM bundle. */
  outputFile: 'index.mjs',
} as const;

/**
 * The settings NodejsFunction has no property for, as its `bundling.esbuildArgs` (CLI flags; it
 * takes no plugins): tree shaking stated explicitly and the stand-ins above.
 */
export function cdkEsbuildArgs(): Record<string, string | string[]> {
  return {
    '--tree-shaking': String(LAMBDA_BUNDLE.treeShaking),
    '--alias': Object.entries(LAMBDA_BUNDLE.alias).map(([from, to]) => `${from}=${to}`),
  };
}
