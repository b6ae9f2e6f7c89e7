/**
 * `npm run lab:record-conformance [-- <capture dir>]`: keeps what the real controllers did in the
 * last lab run (or the run given) as conformance records in test/fixtures/conformance/, one file
 * per canary scenario: the notification bodies and route states reduced to their shapes
 * (lab/conformance/shapes.ts). Only shapes are kept — no names, uids, hashes or times — so the
 * records are the lab's own observations, re-made by any run.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cachePaths } from '../paths.js';
import { labScenarios } from '../scenarios/catalog.js';
import { PROMOTE_ON_SUCCESS } from '../scenarios/objects.js';
import type { LabScenario } from '../scenarios/runner.js';
import {
  albListenerWeights,
  type ConformanceRecord,
  collapse,
  mappingWeights,
  type NotificationShape,
  notificationShape,
  type RouteWeights,
  virtualServiceWeights,
} from './shapes.js';

const PROMOTE_ON_SUCCESS_ANNOTATION = Object.keys(PROMOTE_ON_SUCCESS)[0] ?? '';

export const CONFORMANCE_DIR = join(import.meta.dirname, '../../test/fixtures/conformance');

const readJsonLines = async (file: string): Promise<Record<string, unknown>[]> =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/**
 * From the new revision on: the creation of revision 1 is the lab's set-up, not the canary. Every
 * lab scenario lets revision 1 complete before it makes revision 2, so the new revision's
 * on-rollout-updated is the first one after an on-rollout-completed.
 */
export function fromNewRevision(shapes: NotificationShape[]): NotificationShape[] {
  const completed = shapes.findIndex((shape) => shape.trigger === 'on-rollout-completed');
  const start = shapes.findIndex(
    (shape, index) => index > completed && shape.trigger === 'on-rollout-updated',
  );
  return completed < 0 || start < 0 ? [] : shapes.slice(start);
}

function routeWeightsOf(scenario: LabScenario, state: Record<string, unknown>): RouteWeights | undefined {
  const canary = scenario.canarySides;
  if (!canary) return undefined;
  // The listener rules as the load balancer controller wrote them: what the ALB routes by.
  if (scenario.router === 'alb') return albListenerWeights(state.listenerRules, canary);
  if (scenario.router === 'istio') return virtualServiceWeights(state.virtualService, canary);
  return mappingWeights((state.mappings ?? []) as Array<{ name: string; spec: unknown }>, canary.stable);
}

async function latestRun(): Promise<string> {
  const runs = (await readdir(cachePaths.captures)).sort();
  const last = runs.at(-1);
  if (!last) throw new Error(`no lab run in ${cachePaths.captures}: run \`npm run lab\` first`);
  return join(cachePaths.captures, last);
}

const captureRoot = process.argv[2] ?? (await latestRun());
const summary = JSON.parse(await readFile(join(captureRoot, 'summary.json'), 'utf8')) as {
  components: Record<string, unknown>;
  scenarios: Array<{ name: string; ok: boolean }>;
};
await mkdir(CONFORMANCE_DIR, { recursive: true });
let written = 0;
for (const scenario of labScenarios()) {
  if (!scenario.canarySides) continue;
  const result = summary.scenarios.find((candidate) => candidate.name === scenario.name);
  const dir = join(captureRoot, scenario.argoVersion, scenario.namespace);
  if (!result || !existsSync(join(dir, 'notifications.jsonl'))) continue;
  const notifications = (await readJsonLines(join(dir, 'notifications.jsonl'))).map((record) =>
    notificationShape(record.body),
  );
  const states = await readJsonLines(join(dir, 'route-states.jsonl'));
  const final = JSON.parse(await readFile(join(dir, 'rollout-final.json'), 'utf8')) as {
    metadata?: { annotations?: Record<string, string> };
    spec?: { strategy?: { canary?: Record<string, unknown> } };
  };
  const record: ConformanceRecord = {
    scenario: scenario.name,
    argoVersion: scenario.argoVersion,
    router: scenario.router as ConformanceRecord['router'],
    namespace: scenario.namespace,
    canary: final.spec?.strategy?.canary ?? {},
    loadBalancerControllerStopped: scenario.loadBalancerControllerStopped === true,
    promoteOnSuccess: final.metadata?.annotations?.[PROMOTE_ON_SUCCESS_ANNOTATION] === 'true',
    recordedFrom: { run: captureRoot.split('/').at(-1) ?? captureRoot, components: summary.components },
    notifications: collapse(fromNewRevision(notifications)),
    routes: collapse(states.flatMap((state) => routeWeightsOf(scenario, state) ?? [])),
  };
  const file = join(CONFORMANCE_DIR, `${scenario.argoVersion}-${scenario.namespace}.json`);
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  written++;
  console.error(`[conformance] ${scenario.name}${result.ok ? '' : ' (the scenario was not ok)'} → ${file}`);
}
console.error(`[conformance] ${written} record(s) from ${captureRoot}`);
