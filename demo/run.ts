import { runCli } from '../cli/program.js';
import { formatTable } from '../cli/table.js';
import type { CallbackAction } from '../lambdas/core/callback/respond.js';
import type { VerdictEventDetail } from '../lambdas/core/contracts/verdict-event.js';
import type { HistoryEntry } from '../lambdas/core/history/verdict-history.js';
import { shortUser } from '../sim/argo-cluster.js';
import type { RolloutObject } from '../sim/kube/index.js';
import { serviceTotals } from './emf.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import {
  type CallbackRecord,
  DEMO_CLUSTER,
  DEMO_REGION,
  HISTORY_TABLE,
  IDENTITIES,
  startWorld,
  type TimelineEntry,
  type World,
} from './world.js';

export interface ScenarioResult {
  name: string;
  rollout: string;
  /** The expected verdicts in notification order; `A or B` where the timing decides. */
  expected: string[];
  /** The verdicts, in the order Argo sent the notifications they verify. */
  got: string[];
  findings: string[];
  /** The traffic looks' verdicts (traffic-observed events), in order. */
  traffic: string[];
  /** Finding codes of the first non-Succeeded traffic look (else the last). */
  trafficFindings: string[];
  expectedActions: CallbackAction[];
  /** What the callback did to the Rollout: its aborts and promotes (redeliveries answered from the idempotency table left out). */
  actions: CallbackAction[];
  /** Every callback invocation that returned, redeliveries included. */
  callbacks: Array<Omit<CallbackRecord, 'rollout' | 'outcome'> & { action: CallbackAction; reason: string }>;
  /** Service-wide metric sums the functions emitted during the scenario (the alarms' metrics). */
  metrics: Record<string, number>;
  /** Alarms of the stack that these metrics set off. */
  alarms: string[];
  /** The phases of the AnalysisRuns of the rollout's analysis steps. */
  analysisRuns: string[];
  /** The finding codes of the drift events the sentinel published about the rollout. */
  drift: string[];
  ok: boolean;
  problem?: string;
}

export interface DemoResult {
  ok: boolean;
  durationMs: number;
  scenarios: ScenarioResult[];
  timeline: TimelineEntry[];
  /** Who called what, from the simulators' request logs. */
  calls: {
    /** Kubernetes API requests by function: `<verb> <resource>` → count. */
    kubernetes: Record<string, Record<string, number>>;
    eks: Record<string, number>;
    dynamodb: Record<string, number>;
    elbv2: Record<string, number>;
    cloudwatch: Record<string, number>;
  };
  network: { connections: number; outsideLoopback: string[] };
  /** Each Rollout as the cluster holds it at the end. */
  rollouts: RolloutState[];
  /**
   * `rollout-verifier history <rollout> --table <the demo's history table> --json`, run against the
   * DynamoDB simulator at the end, for the rollouts with analysis steps: their timelines.
   */
  history: Record<string, { exitCode: number; text: string; entries: HistoryEntry[] }>;
}

export interface RolloutState {
  rollout: string;
  phase: string;
  abort: boolean;
  currentStepIndex?: number;
  steps: number;
  pauseConditions: string[];
  stableRS?: string;
  currentPodHash?: string;
}

/** The stack's alarms on function metrics (lib/alarms.ts): metric → alarm, threshold 1. */
const ALARMS: Record<string, string> = {
  VerificationFailed: 'VerificationFailed',
  VerificationInconclusive: 'VerificationInconclusive',
  IngestAuthenticationFailures: 'IngestAuthenticationFailures',
  CallbackErrors: 'CallbackErrors',
};

/** Verdicts in the order of the rollout events they verify (the bus's publish order), not of their arrival. */
function inNotificationOrder(world: World, verdicts: VerdictEventDetail[]): VerdictEventDetail[] {
  const published = new Map(
    world.bus.events().map((record, index) => [(record.event.detail as { eventId?: string }).eventId, index]),
  );
  const position = (verdict: VerdictEventDetail) => published.get(verdict.eventId) ?? Number.MAX_SAFE_INTEGER;
  return [...verdicts].sort((a, b) => position(a) - position(b));
}

function matchesVerdicts(got: string[], expected: Scenario['expected']): boolean {
  return (
    got.length === expected.length &&
    got.every((verdict, index) => {
      const wanted = expected[index] ?? [];
      return typeof wanted === 'string' ? verdict === wanted : wanted.includes(verdict as never);
    })
  );
}

/** Runs every scenario through the real pipeline and checks each verdict and cluster action against the expected ones. */
export async function runDemo({
  deadlineSeconds = 3,
  scenarios = SCENARIOS,
}: {
  deadlineSeconds?: number;
  scenarios?: Scenario[];
} = {}): Promise<DemoResult> {
  const startedAt = Date.now();
  const world = await startWorld({ deadlineSeconds });
  const results: ScenarioResult[] = [];
  let calls: DemoResult['calls'];
  let network: DemoResult['network'];
  let rollouts: RolloutState[];
  let history: DemoResult['history'] = {};
  try {
    for (const scenario of scenarios) {
      const metricsBefore = world.metrics.length;
      let problem: string | undefined;
      try {
        await scenario.run(world);
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      const verdicts = inNotificationOrder(world, world.verdictsFor(scenario.rollout));
      const got = verdicts.map((verdict) => verdict.verdict);
      const telling = verdicts.find((verdict) => verdict.verdict !== 'Succeeded') ?? verdicts.at(-1);
      const findings: string[] = [...new Set((telling?.findings ?? []).map((finding) => finding.code))];
      const looks = world.trafficObservedFor(scenario.rollout);
      const traffic = looks.map((look) => look.verdict);
      const tellingLook = looks.find((look) => look.verdict !== 'Succeeded') ?? looks.at(-1);
      const trafficFindings: string[] = [
        ...new Set((tellingLook?.findings ?? []).map((finding) => finding.code)),
      ];
      const callbacks = world.callbacksFor(scenario.rollout);
      const actions = callbacks
        .filter((record) => !record.replayed && record.outcome.action !== 'none')
        .map((record) => record.outcome.action);
      const name = scenario.rollout.split('/')[1] ?? scenario.rollout;
      const failures = world.bus
        .deliveryFailures()
        .filter((failure) => JSON.stringify(failure.event.detail).includes(`"name":"${name}"`));
      problem ??= failures.length > 0 ? `delivery failed: ${String(failures[0]?.error)}` : undefined;
      const metrics = serviceTotals(world.metrics.slice(metricsBefore));
      const alarms = Object.entries(ALARMS)
        .filter(([metric]) => (metrics[metric] ?? 0) >= 1)
        .map(([, alarm]) => alarm);
      for (const alarm of alarms) {
        world.note(
          scenario.rollout,
          `CloudWatch (EMF): ${alarm}=${metrics[alarm]} {service=rollout-verifier} → alarm ${alarm} fires`,
        );
      }
      const analysisRuns = world.analysisRunsFor(scenario.rollout).map((run) => run.phase);
      const drift: string[] = [
        ...new Set(world.driftsFor(scenario.rollout).flatMap((event) => event.findings.map((f) => f.code))),
      ];
      const ok =
        !problem &&
        matchesVerdicts(got, scenario.expected) &&
        actions.join() === scenario.expectedActions.join() &&
        (scenario.expectedFindings ?? []).every((code) => findings.includes(code)) &&
        (scenario.expectedTraffic === undefined || traffic.join() === scenario.expectedTraffic.join()) &&
        (scenario.expectedTrafficFindings ?? []).every((code) => trafficFindings.includes(code)) &&
        (scenario.expectedAnalysisRuns ?? []).join() === analysisRuns.join() &&
        (scenario.expectedDrift === undefined
          ? drift.length === 0
          : scenario.expectedDrift.every((code) => drift.includes(code)));
      results.push({
        name: scenario.name,
        rollout: scenario.rollout,
        expected: scenario.expected.map((verdict) =>
          typeof verdict === 'string' ? verdict : verdict.join(' or '),
        ),
        got,
        findings,
        traffic,
        trafficFindings,
        expectedActions: scenario.expectedActions,
        actions,
        callbacks: callbacks.map(({ rollout: _rollout, outcome, ...record }) => ({
          ...record,
          action: outcome.action,
          reason: outcome.reason,
        })),
        metrics,
        alarms,
        analysisRuns,
        drift,
        ok,
        problem,
      });
    }
    history = await historyOf(
      world,
      scenarios
        .filter((scenario) => scenario.expectedAnalysisRuns || scenario.expectedDrift)
        .map((scenario) => scenario.rollout),
    );
    calls = callsOf(world);
    network = { connections: world.network.connections.length, outsideLoopback: world.network.outside() };
    rollouts = rolloutStates(world);
  } finally {
    await world.close();
  }
  return {
    ok: results.every((result) => result.ok) && network.outsideLoopback.length === 0,
    durationMs: Date.now() - startedAt,
    scenarios: results,
    timeline: world.timeline,
    calls,
    network,
    rollouts,
    history,
  };
}

/** The operator's `history` command against the demo's table, as text and as JSON. */
async function historyOf(world: World, rollouts: string[]): Promise<DemoResult['history']> {
  const history: DemoResult['history'] = {};
  const flags = [
    '--table',
    HISTORY_TABLE,
    '--endpoint-url',
    world.dynamodb.endpoint,
    '--region',
    DEMO_REGION,
  ];
  for (const rollout of rollouts) {
    const capture = () => {
      const out: string[] = [];
      return {
        io: {
          stdout: { write: (text: string) => out.push(text) },
          stderr: { write: (text: string) => out.push(text) },
        },
        out,
      };
    };
    // With a reader's credentials: the history function's role (it may only put, the simulator does not tell).
    process.env.AWS_ACCESS_KEY_ID = IDENTITIES.history.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = IDENTITIES.history.secretAccessKey;
    const text = capture();
    const exitCode = await runCli(['history', rollout, ...flags, '--cluster', DEMO_CLUSTER], text.io);
    const json = capture();
    await runCli(['history', rollout, ...flags, '--cluster', DEMO_CLUSTER, '--json'], json.io);
    const parsed = JSON.parse(json.out.join('') || '{"entries":[]}') as { entries: HistoryEntry[] };
    history[rollout] = { exitCode, text: text.out.join('').trimEnd(), entries: parsed.entries };
  }
  return history;
}

function rolloutStates(world: World): RolloutState[] {
  return world.kube.list('rollouts').map((object) => {
    const rollout = object as RolloutObject;
    const status = rollout.status ?? {};
    return {
      rollout: `${rollout.metadata.namespace}/${rollout.metadata.name}`,
      phase: status.phase ?? '?',
      abort: status.abort === true,
      currentStepIndex: status.currentStepIndex,
      steps: rollout.spec.strategy.canary?.steps?.length ?? 0,
      pauseConditions: (status.pauseConditions ?? []).map((condition) => condition.reason),
      stableRS: status.stableRS,
      currentPodHash: status.currentPodHash,
    };
  });
}

function callsOf(world: World): DemoResult['calls'] {
  const count = (into: Record<string, number>, key: string) => {
    into[key] = (into[key] ?? 0) + 1;
  };
  const kubernetes: Record<string, Record<string, number>> = {};
  for (const request of world.kube.requests) {
    const who = shortUser(request.user);
    const segments = request.path.split('/');
    const namespaced = segments.indexOf('namespaces');
    const resource = segments
      .slice(namespaced + 2)
      .filter((_, index) => index !== 1)
      .join('/');
    const verb =
      request.method === 'GET'
        ? segments.length > namespaced + 3
          ? 'get'
          : 'list'
        : request.method === 'POST'
          ? 'create'
          : request.method.toLowerCase();
    kubernetes[who] ??= {};
    count(kubernetes[who], `${verb} ${resource}${request.status >= 300 ? ` (${request.status})` : ''}`);
  }
  const eks: Record<string, number> = {};
  for (const request of world.eks.requests) count(eks, `${request.operation} by ${request.principal ?? '?'}`);
  const roles = Object.fromEntries(Object.values(IDENTITIES).map((who) => [who.accessKeyId, who.roleName]));
  const dynamodb: Record<string, number> = {};
  for (const call of world.dynamodb.calls) {
    count(
      dynamodb,
      `${call.operation} by ${roles[call.accessKeyId ?? ''] ?? '?'}${call.error ? ` (${call.error})` : ''}`,
    );
  }
  const cloudwatch: Record<string, number> = {};
  for (const call of world.cloudwatch.calls) {
    count(
      cloudwatch,
      `${call.operation}${call.queries ? ` (${call.queries} queries)` : ''}${call.error ? ` (${call.error})` : ''}`,
    );
  }
  return { kubernetes, eks, dynamodb, elbv2: world.elb.calls(), cloudwatch };
}

export function renderDemo(result: DemoResult): string {
  const rolloutWidth = Math.max(...result.timeline.map((entry) => entry.rollout.length));
  const lines = [
    'rollout-verifier demo: the ingest, verify, callback and traffic Lambdas against loopback ELBv2, EventBridge, Secrets Manager,',
    'EKS, DynamoDB, CloudWatch and Kubernetes API simulators (no AWS account, no cluster)',
    '',
    'Timeline',
    ...result.timeline.map(
      (entry) =>
        `  ${`+${(entry.atMs / 1000).toFixed(2)}s`.padStart(8)}  ${entry.rollout.padEnd(rolloutWidth)}  ${entry.what}`,
    ),
    '',
    'Who called what',
  ];
  for (const [who, requests] of Object.entries(result.calls.kubernetes)) {
    lines.push(`  Kubernetes API as ${who}: ${summary(requests)}`);
  }
  lines.push(`  EKS: ${summary(result.calls.eks)}`);
  lines.push(`  DynamoDB (idempotency): ${summary(result.calls.dynamodb)}`);
  lines.push(`  ELBv2 (verify): ${summary(result.calls.elbv2)}`);
  lines.push(`  CloudWatch (traffic look): ${summary(result.calls.cloudwatch)}`);
  lines.push(
    `  Network: ${result.network.connections} connection(s), ${
      result.network.outsideLoopback.length === 0
        ? 'all to 127.0.0.1'
        : `OUTSIDE LOOPBACK: ${result.network.outsideLoopback.join(', ')}`
    }`,
  );
  for (const [rollout, { text }] of Object.entries(result.history)) {
    lines.push(
      '',
      `$ rollout-verifier history ${rollout} --table ${HISTORY_TABLE}`,
      ...text.split('\n').map((line) => `  ${line}`),
    );
  }
  lines.push('', 'Rollouts at the end (kube-sim)');
  lines.push(
    formatTable(
      ['ROLLOUT', 'PHASE', 'STEP', 'ABORT', 'PAUSE', 'STABLE = NEW'],
      result.rollouts.map((state) => [
        state.rollout,
        state.phase,
        state.steps > 0 ? `${state.currentStepIndex ?? 0}/${state.steps}` : '-',
        state.abort ? 'true' : '-',
        state.pauseConditions.join(', ') || '-',
        state.stableRS && state.stableRS === state.currentPodHash ? 'yes' : 'no',
      ]),
    ),
  );
  lines.push('', 'Summary');
  const rows = result.scenarios.map((scenario) => [
    scenario.name,
    scenario.got.join(', ') || '(no verdict)',
    scenario.actions.join(', ') || '-',
    [scenario.findings.join(', '), scenario.drift.length > 0 ? `drift: ${scenario.drift.join(', ')}` : '']
      .filter(Boolean)
      .join('; ') || '-',
    trafficSummary(scenario),
    scenario.ok ? 'ok' : mismatch(scenario),
  ]);
  lines.push(
    formatTable(['SCENARIO', 'VERDICTS', 'CLUSTER ACTIONS', 'FINDINGS', 'TRAFFIC OBSERVED', 'RESULT'], rows),
  );
  const passed = result.scenarios.filter((scenario) => scenario.ok).length;
  lines.push(
    '',
    `${passed} of ${result.scenarios.length} scenarios reached the expected verdicts and cluster actions (${(result.durationMs / 1000).toFixed(1)} s).`,
  );
  return lines.join('\n');
}

/** The traffic looks' verdicts, with the telling look's findings. */
function trafficSummary(scenario: ScenarioResult): string {
  if (scenario.traffic.length === 0) return '-';
  const findings = scenario.trafficFindings.length > 0 ? ` (${scenario.trafficFindings.join(', ')})` : '';
  return `${scenario.traffic.join(', ')}${findings}`;
}

function mismatch(scenario: ScenarioResult): string {
  const expected = `expected ${scenario.expected.join(', ') || '(no verdict)'} / ${scenario.expectedActions.join(', ') || '-'}`;
  return `MISMATCH: ${expected}${scenario.problem ? `; ${scenario.problem}` : ''}`;
}

function summary(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? 'none' : entries.map(([what, n]) => `${what} ×${n}`).join(', ');
}
