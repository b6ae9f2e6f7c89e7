import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { RolloutVerifierStack } from '../../lib/rollout-verifier-stack.js';
import { PROJECT_ROOT, type RolloutVerifierProps } from '../../lib/settings.js';

/** The feature flags of cdk.json, so tests synthesize what `cdk synth` does. */
const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8'),
).context;

const tempDirs: string[] = [];

/** A temp directory removed by `cleanup()` (call it in afterAll). */
export function tempDir(prefix = 'rv-infra-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function cleanup(): void {
  for (const dir of tempDirs.splice(0)) {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestAppOptions {
  /** Run esbuild (slow): only the bundling test does. */
  readonly bundle?: boolean;
  /** Register cdk-nag AwsSolutionsChecks so `app.synth()` fails on findings. */
  readonly nag?: boolean;
  readonly context?: Record<string, unknown>;
}

/** A fast App: no esbuild (bundling-stacks empty), no CloudFormation schema validation, outdir in tmp. */
export function testApp(options: TestAppOptions = {}): App {
  const app = new App({
    outdir: tempDir(),
    builtinCloudFormationValidation: false,
    context: {
      ...CDK_JSON_CONTEXT,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
  if (options.nag) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  }
  return app;
}

export interface Synthesized {
  readonly app: App;
  readonly stack: RolloutVerifierStack;
  readonly template: Template;
}

export function synth(props: RolloutVerifierProps = {}, options: TestAppOptions = {}): Synthesized {
  const app = testApp(options);
  const stack = new RolloutVerifierStack(app, 'Test', { verifier: props });
  return { app, stack, template: Template.fromStack(stack) };
}

/**
 * Entry for the functions whose handlers do not exist yet (ingest, callback): a fixture under the
 * project root (NodejsFunction requires that); tests skip bundling, so its content does not matter.
 */
/** The verify function alone: every optional part of the construct switched off. */
export const VERIFY_ONLY = {
  ingest: { enabled: false },
  callback: { enabled: false },
  trafficLook: { enabled: false },
  history: { enabled: false },
  gate: { enabled: false },
  sentinel: { enabled: false },
} as const;

export const PLACEHOLDER_ENTRY = join(PROJECT_ROOT, 'test/infra/fixtures/placeholder-handler.ts');

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** The resources of one type, `Properties` always present (`{}` when the template has none). */
export function resourcesOfType(template: Template, type: string): Resources {
  const found = template.findResources(type) as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;
  return Object.fromEntries(
    Object.entries(found).map(([id, resource]) => [
      id,
      { ...resource, Properties: resource.Properties ?? {} },
    ]),
  );
}

/** The logical id CloudFormation knows a construct's resource by. */
export const logicalId = (construct: IConstruct) =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnResource);

/** `{ "Fn::GetAtt": [<logical id>, attribute] }` for a construct's resource. */
export const getAtt = (construct: IConstruct, attribute = 'Arn') => ({
  'Fn::GetAtt': [logicalId(construct), attribute],
});
