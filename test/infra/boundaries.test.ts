import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../lib/settings.js';

const infraFiles = [
  ...readdirSync(join(PROJECT_ROOT, 'lib'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(PROJECT_ROOT, 'lib', file)),
  join(PROJECT_ROOT, 'bin/app.ts'),
];

const importsOf = (file: string) =>
  [
    ...readFileSync(file, 'utf8').matchAll(
      /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]/g,
    ),
  ].map((match) => match[1] ?? match[2] ?? '');

test('infrastructure never imports runtime code: only aws-cdk-lib, constructs, cdk-nag, node: and contract/', () => {
  const offending = infraFiles.flatMap((file) =>
    importsOf(file)
      .filter(
        (specifier) =>
          !(
            specifier.startsWith('node:') ||
            specifier === 'aws-cdk-lib' ||
            specifier.startsWith('aws-cdk-lib/') ||
            specifier === 'constructs' ||
            specifier === 'cdk-nag' ||
            /^\.\.\/contract\/[a-z-]+\.js$/.test(specifier) ||
            /^\.{1,2}\/(lib\/)?[a-z-]+\.js$/.test(specifier)
          ),
      )
      .map((specifier) => `${relative(PROJECT_ROOT, file)} → ${specifier}`),
  );
  expect(infraFiles.length).toBeGreaterThan(10);
  expect(offending).toEqual([]);
});

const runtimeFiles = readdirSync(join(PROJECT_ROOT, 'lambdas'), { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts'))
  .map((file) => join(PROJECT_ROOT, 'lambdas', file));

test('runtime code never imports the infrastructure: no lib/, aws-cdk-lib, constructs or cdk-nag', () => {
  const offending = runtimeFiles.flatMap((file) =>
    importsOf(file)
      .filter(
        (specifier) =>
          /(^|\/)lib\//.test(specifier) ||
          specifier === 'aws-cdk-lib' ||
          specifier.startsWith('aws-cdk-lib/') ||
          specifier === 'constructs' ||
          specifier === 'cdk-nag',
      )
      .map((specifier) => `${relative(PROJECT_ROOT, file)} → ${specifier}`),
  );
  expect(runtimeFiles.length).toBeGreaterThan(30);
  expect(offending).toEqual([]);
});

/** The verify path: it holds routers only through lambdas/core/routers/index.ts. */
const verifyPath = [
  'lambdas/core/verify.ts',
  'lambdas/verify/handler.ts',
  'cli/program.ts',
  'lambdas/core/converge.ts',
  'lambdas/core/judge/index.ts',
].map((file) => join(PROJECT_ROOT, file));

test('nothing on the verify path names a concrete router: one interface, one factory', () => {
  const offending = verifyPath.flatMap((file) =>
    importsOf(file)
      .filter((specifier) => /routers\/(alb|istio|ambassador)\/(router|with-endpoints)\.js$/.test(specifier))
      .map((specifier) => `${relative(PROJECT_ROOT, file)} → ${specifier}`),
  );
  expect(verifyPath.every((file) => importsOf(file).length > 0)).toBe(true);
  expect(offending).toEqual([]);
});

const productFolders = ['bin', 'cli', 'contract', 'lambdas', 'lib', 'demo', 'bench', 'lab', 'sim', 'scripts'];
const productFiles = productFolders.flatMap((folder) =>
  readdirSync(join(PROJECT_ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.includes('node_modules') && !file.startsWith('.cache'))
    .map((file) => join(PROJECT_ROOT, folder, file)),
);

test('product code (the demo, the bench, the lab and the simulators included) never imports test code', () => {
  const offending = productFiles.flatMap((file) =>
    importsOf(file)
      .filter((specifier) => specifier.startsWith('.') && /(^|\/)test\//.test(specifier))
      .map((specifier) => `${relative(PROJECT_ROOT, file)} → ${specifier}`),
  );
  expect(productFiles.length).toBeGreaterThan(100);
  expect(offending).toEqual([]);
});
