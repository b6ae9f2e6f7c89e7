import { formatTable } from '../cli/table.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { startWorld, type TimelineEntry } from './world.js';

export interface ScenarioResult {
  name: string;
  rollout: string;
  expected: string[];
  got: string[];
  findings: string[];
  ok: boolean;
  problem?: string;
}

export interface DemoResult {
  ok: boolean;
  scenarios: ScenarioResult[];
  timeline: TimelineEntry[];
}

/** Runs every scenario through the real pipeline pieces and checks each verdict against the expected one. */
export async function runDemo({
  deadlineSeconds = 3,
  scenarios = SCENARIOS,
}: {
  deadlineSeconds?: number;
  scenarios?: Scenario[];
} = {}): Promise<DemoResult> {
  const world = await startWorld({ deadlineSeconds });
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of scenarios) {
      let problem: string | undefined;
      try {
        await scenario.run(world);
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      const verdicts = world.verdictsFor(scenario.rollout);
      const got = verdicts.map((verdict) => verdict.verdict);
      const findings: string[] = [
        ...new Set((verdicts.at(-1)?.findings ?? []).map((finding) => finding.code)),
      ];
      const failures = world.bus
        .deliveryFailures()
        .filter((failure) => JSON.stringify(failure.event.detail).includes(scenario.rollout.split('/')[1]!));
      problem ??= failures.length > 0 ? `delivery failed: ${String(failures[0]?.error)}` : undefined;
      const ok =
        !problem &&
        got.join() === scenario.expected.join() &&
        (scenario.expectedFindings ?? []).every((code) => findings.includes(code));
      results.push({
        name: scenario.name,
        rollout: scenario.rollout,
        expected: scenario.expected,
        got,
        findings,
        ok,
        problem,
      });
    }
  } finally {
    await world.close();
  }
  return { ok: results.every((result) => result.ok), scenarios: results, timeline: world.timeline };
}

export function renderDemo(result: DemoResult): string {
  const rolloutWidth = Math.max(...result.timeline.map((entry) => entry.rollout.length));
  const lines = [
    'rollout-verifier demo: the ingest and verify Lambdas against loopback ELBv2, Secrets Manager and EventBridge simulators (no AWS account)',
    '',
    'Timeline',
    ...result.timeline.map(
      (entry) =>
        `  ${`+${(entry.atMs / 1000).toFixed(2)}s`.padStart(8)}  ${entry.rollout.padEnd(rolloutWidth)}  ${entry.what}`,
    ),
    '',
    'Summary',
  ];
  const rows = result.scenarios.map((scenario) => [
    scenario.name,
    scenario.expected.join(', ') || '(no verdict)',
    scenario.got.join(', ') || '(no verdict)',
    scenario.findings.join(', ') || '-',
    scenario.ok ? 'ok' : `MISMATCH${scenario.problem ? `: ${scenario.problem}` : ''}`,
  ]);
  const header = ['SCENARIO', 'EXPECTED', 'GOT', 'FINDINGS', 'RESULT'];
  lines.push(formatTable(header, rows));
  const passed = result.scenarios.filter((scenario) => scenario.ok).length;
  lines.push('', `${passed} of ${result.scenarios.length} scenarios reached the expected verdicts.`);
  return lines.join('\n');
}
