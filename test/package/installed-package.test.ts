import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../lib/settings.js';
import { duplicatePhysicalNames, physicalNames } from '../support/physical-names.js';

/**
 * The package as a platform team gets it: `npm pack` (which builds dist/ and the Lambda bundles),
 * the tarball installed into a scratch CDK app in a temp folder outside the repository, with
 * aws-cdk-lib and constructs as its own dependencies (from the npm cache when it has them). The
 * app puts two verifiers with default props in one stack and one in a second stack, synthesizes
 * offline, and no physical name may appear twice; the installed CLI must run without tsx.
 */

const run = promisify(execFile);
const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));
const installedVersion = (name: string) =>
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8'))
    .version as string;

/** The parent's npm_* variables (npm sets them for `npm test`) would point the child npm at this repository. */
const cleanEnvironment = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_'))),
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  CDK_DISABLE_VERSION_CHECK: '1',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
});

const SCRATCH_APP = `import { App, Stack } from 'aws-cdk-lib';
import { RolloutVerifier } from 'rollout-verifier';

const app = new App({ outdir: process.argv[2] });
const platform = new Stack(app, 'PlatformOne');
new RolloutVerifier(platform, 'Verifier');
new RolloutVerifier(platform, 'Second');
new RolloutVerifier(new Stack(app, 'PlatformTwo'), 'Verifier');
app.synth();
`;

/** The construct's public types as a TypeScript consumer uses them, typechecked against the shipped .d.ts. */
const TYPED_APP = `import { App, Stack } from 'aws-cdk-lib';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { RolloutVerifier, type RolloutVerifierProps } from 'rollout-verifier';
import { VERDICT_EVENT_SOURCE } from 'rollout-verifier/event-catalog';

const props: RolloutVerifierProps = { deadlineSeconds: 45 };
const stack = new Stack(new App(), 'Typed');
const verifier = new RolloutVerifier(stack, 'Verifier', props);
verifier.onVerdict('Failures', { target: new SqsQueue(new Queue(stack, 'Ops')), verdicts: ['Failed'] });
export const names: string[] = [verifier.metricVerificationsFailed().metricName, VERDICT_EVENT_SOURCE];
`;

let work: string;
let app: string;
let tarballFiles: string[];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'rv-package-'));
  app = join(work, 'app');
  const env = cleanEnvironment();
  // `prepack` builds dist/ (tsc) and dist/bundles (esbuild) first.
  await run('npm', ['pack', '--pack-destination', work], {
    cwd: PROJECT_ROOT,
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  const tarball = join(work, `rollout-verifier-${manifest.version}.tgz`);
  tarballFiles = (await run('tar', ['-tzf', tarball], { maxBuffer: 16 * 1024 * 1024 })).stdout
    .split('\n')
    .filter(Boolean)
    .map((entry) => entry.replace(/^package\//, ''));

  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'scratch-workspace', private: true }));
  rmSync(app, { recursive: true, force: true });
  await run('mkdir', ['-p', app]);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'scratch-cdk-app', private: true, type: 'module' }),
  );
  writeFileSync(join(app, 'app.mjs'), SCRATCH_APP);
  writeFileSync(join(app, 'app.ts'), TYPED_APP);
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        lib: ['es2024', 'esnext.disposable'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        // The shipped .d.ts are checked too (aws-cdk-lib's need esnext.disposable), without @types/node.
        skipLibCheck: false,
        types: [],
      },
      files: ['app.ts'],
    }),
  );
  await run(
    'npm',
    [
      'install',
      tarball,
      `aws-cdk-lib@${installedVersion('aws-cdk-lib')}`,
      `constructs@${installedVersion('constructs')}`,
      '--prefer-offline',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
    ],
    { cwd: app, env, maxBuffer: 16 * 1024 * 1024 },
  );
}, 300_000);

// Removing a scratch app with its node_modules takes seconds on a busy machine: not the default 10 s hook timeout.
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
}, 120_000);

describe('the packed tarball', () => {
  test('was installed outside the repository', () => {
    expect(relative(PROJECT_ROOT, app).startsWith('..')).toBe(true);
    expect(existsSync(join(app, 'node_modules/rollout-verifier/package.json'))).toBe(true);
  });

  test('holds compiled JavaScript with .d.ts, the prebuilt bundles and the LICENSE, and no tests, fixtures or sources', () => {
    for (const file of [
      'LICENSE',
      'package.json',
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/contract/event-catalog.js',
      'dist/bin/cli.js',
      'dist/bundles/verify/index.mjs',
      'dist/bundles/ingest/index.mjs',
      'dist/bundles/callback/index.mjs',
      'dist/bundles/traffic/index.mjs',
    ]) {
      expect(tarballFiles, file).toContain(file);
    }
    const unwanted = tarballFiles.filter(
      (file) =>
        /(^|\/)(test|tests|fixtures|bench|demo|vendor|scripts)\//.test(file) ||
        /\.test\.|\.spec\./.test(file) ||
        (/\.ts$/.test(file) && !/\.d\.ts$/.test(file)),
    );
    expect(unwanted).toEqual([]);
  });

  test('declares aws-cdk-lib and constructs as peers, and an exports map', () => {
    const installed = JSON.parse(
      readFileSync(join(app, 'node_modules/rollout-verifier/package.json'), 'utf8'),
    );
    expect(Object.keys(installed.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    expect(installed.dependencies['aws-cdk-lib']).toBeUndefined();
    expect(installed.exports['.']).toEqual({
      types: './dist/lib/index.d.ts',
      default: './dist/lib/index.js',
    });
  });
});

describe('a scratch CDK app using it', () => {
  let templates: Array<{ stack: string; template: Record<string, unknown> }>;
  let assembly: string;

  beforeAll(async () => {
    assembly = join(work, 'cdk.out');
    await run(process.execPath, ['app.mjs', assembly], { cwd: app, env: cleanEnvironment() });
    templates = ['PlatformOne', 'PlatformTwo'].map((stack) => ({
      stack,
      template: JSON.parse(readFileSync(join(assembly, `${stack}.template.json`), 'utf8')),
    }));
  }, 120_000);

  test('synthesizes two verifiers in one stack and one in another with no physical name twice', () => {
    const names = templates.flatMap(({ stack, template }) => physicalNames(stack, template));
    // The buses are named (CloudFormation requires it); nothing else is.
    expect(names.filter((name) => name.type === 'AWS::Events::EventBus')).toHaveLength(3);
    expect(duplicatePhysicalNames(names)).toEqual([]);
  });

  test('deploys the prebuilt bundles as they are: nothing was bundled in the consumer project', () => {
    // Every function but the drift sentinel, which needs a cluster (these verifiers name none).
    const deployed = ['verify', 'ingest', 'callback', 'traffic', 'history', 'gate'];
    const packaged = deployed.map((name) =>
      sha256(readFileSync(join(app, 'node_modules/rollout-verifier/dist/bundles', name, 'index.mjs'))),
    );
    expect(readdirSync(join(app, 'node_modules/rollout-verifier/dist/bundles')).sort()).toEqual(
      [...deployed, 'sentinel'].sort(),
    );
    const assets = readdirSync(assembly).filter((entry) => entry.startsWith('asset.'));
    expect(assets).toHaveLength(deployed.length);
    for (const asset of assets) {
      expect(readdirSync(join(assembly, asset))).toEqual(['index.mjs']);
      expect(packaged).toContain(sha256(readFileSync(join(assembly, asset, 'index.mjs'))));
    }
    const functions = templates.flatMap(({ template }) =>
      Object.values(
        template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
      ).filter((resource) => resource.Type === 'AWS::Lambda::Function'),
    );
    expect(functions).toHaveLength(3 * deployed.length);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Handler: 'index.handler' });
    }
  });

  test('refuses a handler entry to bundle, naming the construct and the prop', async () => {
    const script = `import { App, Stack } from 'aws-cdk-lib';
import { RolloutVerifier } from 'rollout-verifier';
try {
  new RolloutVerifier(new Stack(new App(), 'Own'), 'Verifier', { verifyEntry: 'handler.ts' });
} catch (error) {
  console.log(error.message);
}`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: app,
      env: cleanEnvironment(),
    });
    expect(stdout).toContain('invalid RolloutVerifier settings at Own/Verifier:');
    expect(stdout).toContain('verifyEntry: the installed package deploys its prebuilt verify bundle');
  });

  test('typechecks against the shipped declarations', async () => {
    const tsc = join(PROJECT_ROOT, 'node_modules/.bin/tsc');
    await expect(
      run(tsc, ['-p', 'tsconfig.json'], { cwd: app, env: cleanEnvironment() }),
    ).resolves.toBeDefined();
  }, 60_000);
});

describe('the installed CLI', () => {
  const cli = () => join(app, 'node_modules/.bin/rollout-verifier');

  test('runs compiled JavaScript, without tsx', () => {
    expect(existsSync(join(app, 'node_modules/tsx'))).toBe(false);
    expect(readFileSync(cli(), 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  });

  test('answers --version', async () => {
    const { stdout } = await run(cli(), ['--version'], { cwd: app, env: cleanEnvironment() });
    expect(stdout).toBe(`${manifest.version}\n`);
  });

  test('answers verify --help', async () => {
    const { stdout } = await run(cli(), ['verify', '--help'], { cwd: app, env: cleanEnvironment() });
    expect(stdout).toMatch(/^Usage: rollout-verifier verify \[options\]/);
    expect(stdout).toContain('--rollout <namespace/name>');
    expect(stdout).toContain('--kubeconfig <file>');
  });
});

function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}
