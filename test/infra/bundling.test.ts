import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, expect, test } from 'vitest';
import { RolloutVerifierStack } from '../../lib/rollout-verifier-stack.js';
import { cleanup, testApp } from './helpers.js';

afterAll(cleanup);

/** The one test that runs esbuild: every other test skips bundling. */
test('the verify function bundles locally into one small, minified ESM file that loads on Node 24', () => {
  const app = testApp({ bundle: true });
  const stack = new RolloutVerifierStack(app, 'Bundled', {
    verifier: { ingest: { enabled: false }, callback: { enabled: false } },
  });
  const assembly = app.synth();

  const bundles = readdirSync(assembly.directory)
    .filter((entry) => entry.startsWith('asset.'))
    .map((entry) => join(assembly.directory, entry));
  expect(bundles).toHaveLength(1);
  const [bundleDir = ''] = bundles;
  expect(readdirSync(bundleDir)).toEqual(['index.mjs']);
  const file = join(bundleDir, 'index.mjs');
  const code = readFileSync(file, 'utf8');
  const bytes = statSync(file).size;
  const gzipped = gzipSync(code).length;
  console.log(`verify bundle: ${(bytes / 1024).toFixed(0)} KiB, ${(gzipped / 1024).toFixed(0)} KiB gzipped`);

  // ESM with the createRequire banner, minified (few, very long lines), SDK inside (no external import).
  // Booleans, not toMatch: a failure must not print an 850 KiB string.
  expect(code.startsWith("import{createRequire as __rvCreateRequire}from'node:module';")).toBe(true);
  expect(/export\{[^}]*\bas handler\b[^}]*\}/.test(code), 'ESM export of handler').toBe(true);
  expect(/module\.exports\s*=/.test(code), 'CommonJS export').toBe(false);
  expect(/from\s*["']@aws-sdk\//.test(code), 'external @aws-sdk import').toBe(false);
  expect(code.includes('DescribeTargetHealth'), 'ELBv2 client bundled').toBe(true);
  expect(code.split('\n').length).toBeLessThan(500);
  expect(bytes).toBeLessThan(1.5 * 1024 * 1024);

  // The bundle starts on this Node (24, as the Lambda runtime) with the env the stack gives it.
  const loaded = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(file)}); console.log(typeof m.handler);`,
    ],
    {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        EVENT_BUS_NAME: 'rollout-verifier',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
      encoding: 'utf8',
    },
  );
  expect(loaded.trim()).toBe('function');
  expect(process.version).toMatch(/^v24\./);

  Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
    Handler: 'index.handler',
    Runtime: 'nodejs24.x',
  });
});
