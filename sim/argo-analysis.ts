import { parseAllDocuments } from 'yaml';
import type { RolloutObject } from './kube/index.js';

/**
 * The Argo Rollouts analysis controller for AnalysisRuns of `web` metrics, as v1.9.1 runs them
 * (metricproviders/webmetric/webmetric.go, utils/evaluate/evaluate.go), for the demo's analysis
 * steps: the step's args and the template's are merged (fieldRef, podTemplateHashValue,
 * secretKeyRef resolved as the controller does), `{{args.name}}` substituted into the URL and the
 * headers, one real HTTP request made with the metric's timeout, and its answer evaluated:
 *
 * - a transport error, a timeout or a non-2xx status is a measurement Error;
 * - a body that is not JSON is the result as a string, and Successful (Argo's quirk);
 * - `result` is the body at `jsonPath` (only `{$}` and `{$.a.b}` paths here);
 * - successCondition / failureCondition are evaluated; with both set, matching neither is
 *   Inconclusive; with one set, the other is its negation.
 *
 * Conditions are `expr` expressions in Argo; this evaluator takes the subset the project's templates
 * use — `result.a.b == "text"` / `!=`, joined by `&&` or `||` — and refuses anything else loudly.
 */

export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';
export type AnalysisRunPhase = MeasurementPhase;

export interface WebMetric {
  name: string;
  count?: number;
  interval?: string;
  failureLimit?: number;
  inconclusiveLimit?: number;
  consecutiveErrorLimit?: number;
  successCondition?: string;
  failureCondition?: string;
  provider: {
    web: {
      url: string;
      method?: string;
      timeoutSeconds?: number;
      headers?: Array<{ key: string; value: string }>;
      jsonPath?: string;
    };
  };
}

export interface AnalysisArg {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
    podTemplateHashValue?: 'Stable' | 'Latest';
  };
}

export interface ClusterAnalysisTemplate {
  apiVersion: string;
  kind: 'ClusterAnalysisTemplate' | 'AnalysisTemplate';
  metadata: { name: string };
  spec: { args?: AnalysisArg[]; metrics: WebMetric[] };
}

export interface AnalysisStep {
  templates: Array<{ templateName: string; clusterScope?: boolean }>;
  args?: AnalysisArg[];
}

export interface Measurement {
  phase: MeasurementPhase;
  /** The result as Argo stores it (`measurement.value`), or the error message. */
  value: string;
  /** The URL requested, with the token-bearing headers left out. */
  url: string;
  status?: number;
  durationMs: number;
}

export interface AnalysisRunResult {
  name: string;
  phase: AnalysisRunPhase;
  measurements: Measurement[];
  message: string;
}

export interface AnalysisDependencies {
  templates: readonly ClusterAnalysisTemplate[];
  /** A key of a Secret in the Rollout's namespace (the analysis controller's own read). */
  secretValue(namespace: string, name: string, key: string): string | undefined;
}

/** The ClusterAnalysisTemplates of a manifest file. */
export function analysisTemplatesIn(yamlText: string): ClusterAnalysisTemplate[] {
  return parseAllDocuments(yamlText)
    .map((document) => document.toJS() as ClusterAnalysisTemplate | null)
    .filter((value): value is ClusterAnalysisTemplate => value?.kind === 'ClusterAnalysisTemplate');
}

/** One AnalysisRun for an inline analysis step: every metric measured `count` (default 1) times. */
export async function runAnalysisStep(
  rollout: RolloutObject,
  step: AnalysisStep,
  stepIndex: number,
  deps: AnalysisDependencies,
): Promise<AnalysisRunResult> {
  const name = `${rollout.metadata.name}-${rollout.status?.currentPodHash ?? 'x'}-${stepIndex}`;
  const measurements: Measurement[] = [];
  let phase: AnalysisRunPhase = 'Successful';
  let message = 'all metrics successful';
  for (const reference of step.templates) {
    const template = deps.templates.find(
      (candidate) => candidate.metadata.name === reference.templateName && (reference.clusterScope ?? false),
    );
    if (!template) {
      return { name, phase: 'Error', measurements, message: `template ${reference.templateName} not found` };
    }
    let args: Record<string, string>;
    try {
      args = resolveArgs(rollout, template.spec.args ?? [], step.args ?? [], deps);
    } catch (error) {
      return { name, phase: 'Error', measurements, message: (error as Error).message };
    }
    for (const metric of template.spec.metrics) {
      const outcome = await runMetric(metric, args);
      measurements.push(...outcome.measurements);
      if (outcome.phase !== 'Successful') {
        phase = outcome.phase;
        message = `metric "${metric.name}" assessed ${outcome.phase}: ${outcome.measurements.at(-1)?.value ?? ''}`;
        return { name, phase, measurements, message };
      }
    }
  }
  return { name, phase, measurements, message };
}

/** `count` measurements (no interval waited for here), assessed with the metric's limits. */
async function runMetric(
  metric: WebMetric,
  args: Record<string, string>,
): Promise<{ phase: MeasurementPhase; measurements: Measurement[] }> {
  const measurements: Measurement[] = [];
  const count = metric.count ?? 1;
  const failureLimit = metric.failureLimit ?? 0;
  const inconclusiveLimit = metric.inconclusiveLimit ?? 0;
  const consecutiveErrorLimit = metric.consecutiveErrorLimit ?? 4;
  let failed = 0;
  let inconclusive = 0;
  let consecutiveErrors = 0;
  while (measurements.filter((m) => m.phase !== 'Error').length < count) {
    const measurement = await measure(metric, args);
    measurements.push(measurement);
    if (measurement.phase === 'Error') {
      if (++consecutiveErrors > consecutiveErrorLimit) return { phase: 'Error', measurements };
      continue;
    }
    consecutiveErrors = 0;
    if (measurement.phase === 'Failed' && ++failed > failureLimit) return { phase: 'Failed', measurements };
    if (measurement.phase === 'Inconclusive' && ++inconclusive > inconclusiveLimit) {
      return { phase: 'Inconclusive', measurements };
    }
  }
  return { phase: 'Successful', measurements };
}

/** One web measurement: the request, then the answer through jsonPath and the conditions. */
async function measure(metric: WebMetric, args: Record<string, string>): Promise<Measurement> {
  const web = metric.provider.web;
  const url = substitute(web.url, args);
  const started = Date.now();
  const done = (phase: MeasurementPhase, value: string, status?: number): Measurement => ({
    phase,
    value,
    url,
    durationMs: Date.now() - started,
    ...(status === undefined ? {} : { status }),
  });
  let response: Response;
  let body: string;
  try {
    response = await fetch(url, {
      method: web.method ?? 'GET',
      headers: Object.fromEntries(
        (web.headers ?? []).map(({ key, value }) => [key, substitute(value, args)]),
      ),
      signal: AbortSignal.timeout(
        (web.timeoutSeconds && web.timeoutSeconds > 0 ? web.timeoutSeconds : 10) * 1000,
      ),
    });
    body = await response.text();
  } catch (error) {
    return done('Error', (error as Error).message);
  }
  if (response.status < 200 || response.status >= 300) {
    return done('Error', `received non 2xx response code: ${response.status}`, response.status);
  }
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return done('Successful', body, response.status);
  }
  const result = atJsonPath(data, web.jsonPath ?? '{$}');
  if (result === undefined) return done('Error', `Could not find JSONPath in body`, response.status);
  try {
    return done(evaluateResult(result, metric), JSON.stringify(result), response.status);
  } catch (error) {
    return done('Error', (error as Error).message, response.status);
  }
}

/** evaluate.EvaluateResult: both conditions, one of them, or none. */
export function evaluateResult(
  result: unknown,
  metric: Pick<WebMetric, 'successCondition' | 'failureCondition'>,
): MeasurementPhase {
  const { successCondition, failureCondition } = metric;
  let success = successCondition ? evalCondition(result, successCondition) : false;
  let failure = failureCondition ? evalCondition(result, failureCondition) : false;
  if (!successCondition && !failureCondition) return 'Successful';
  if (successCondition && !failureCondition) failure = !success;
  if (!successCondition && failureCondition) success = !failure;
  if (failure) return 'Failed';
  if (!success) return 'Inconclusive';
  return 'Successful';
}

const COMPARISON = /^\s*result((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(==|!=)\s*"([^"\\]*)"\s*$/;

function evalCondition(result: unknown, condition: string): boolean {
  const disjuncts = condition.split('||');
  return disjuncts.some((disjunct) =>
    disjunct.split('&&').every((term) => {
      const match = COMPARISON.exec(term);
      if (!match) throw new Error(`condition "${condition}" is outside the demo evaluator's subset`);
      const [, path = '', op, literal] = match;
      const value = path
        .split('.')
        .filter(Boolean)
        .reduce<unknown>(
          (at, key) =>
            at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined,
          result,
        );
      return op === '==' ? value === literal : value !== literal;
    }),
  );
}

function atJsonPath(data: unknown, jsonPath: string): unknown {
  const match = /^\{\$((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}$/.exec(jsonPath.trim());
  if (!match) throw new Error(`jsonPath ${jsonPath} is outside the demo's subset`);
  return (match[1] ?? '')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>(
      (at, key) => (at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined),
      data,
    );
}

/** `{{args.name}}` (spaces allowed) → the arg's value; an unknown arg stays an error. */
function substitute(text: string, args: Record<string, string>): string {
  return text.replace(/\{\{\s*args\.([A-Za-z0-9_-]+)\s*\}\}/g, (_whole, name: string) => {
    const value = args[name];
    if (value === undefined) throw new Error(`arg ${name} has no value`);
    return value;
  });
}

/** The template's args, valued by the step's args or their own valueFrom (analysisutil.ResolveArgs). */
function resolveArgs(
  rollout: RolloutObject,
  templateArgs: readonly AnalysisArg[],
  stepArgs: readonly AnalysisArg[],
  deps: AnalysisDependencies,
): Record<string, string> {
  const namespace = String(rollout.metadata.namespace);
  const resolve = (arg: AnalysisArg): string | undefined => {
    if (arg.value !== undefined) return arg.value;
    const from = arg.valueFrom;
    if (!from) return undefined;
    if (from.secretKeyRef) return deps.secretValue(namespace, from.secretKeyRef.name, from.secretKeyRef.key);
    if (from.podTemplateHashValue === 'Latest') return rollout.status?.currentPodHash;
    if (from.podTemplateHashValue === 'Stable') return rollout.status?.stableRS;
    if (from.fieldRef) {
      return from.fieldRef.fieldPath
        .split('.')
        .reduce<unknown>(
          (at, key) =>
            at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined,
          rollout,
        ) as string | undefined;
    }
    return undefined;
  };
  const values: Record<string, string> = {};
  for (const arg of templateArgs) {
    const given = stepArgs.find((candidate) => candidate.name === arg.name);
    const value = given ? resolve(given) : resolve(arg);
    if (value === undefined) throw new Error(`args.${arg.name} was not resolved`);
    values[arg.name] = value;
  }
  return values;
}
