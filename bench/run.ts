import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable } from '../cli/table.js';
import {
  BUNDLE_BUDGET_BYTES,
  buildBundles,
  FUNCTION_ENV,
  type LambdaName,
  measureColdImports,
  PROJECT_ROOT,
} from './bundles.js';
import { type CostPer1000, costPer1000Verifications } from './cost.js';
import { type FloodOptions, type FloodScenarioResult, measureFlood } from './flood.js';
import {
  type BurstOptions,
  type ConvergenceOptions,
  measureBurst,
  measureConvergence,
  measureElbCalls,
  measureHandlerOverhead,
} from './scenarios.js';

/**
 * `npm run bench`: builds the Lambda bundles with the deployment's esbuild options, then runs the
 * real handlers from those bundles against the loopback simulators (bench/README.md explains
 * every number). Writes bench/results.json and prints a table.
 *
 *   npm run bench                 full run (≈ 6 minutes on a loaded 2-core machine, most of it the burst and the flood), writes bench/results.json
 *   npm run bench -- --quick      fewer samples, shorter burst; writes only with --out
 *   npm run bench -- --out f.json write the results elsewhere (e.g. to compare two versions)
 */

const { values: flags } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, out: { type: 'string' } },
});
const quick = flags.quick ?? false;
const out = flags.out ?? (quick ? undefined : join(PROJECT_ROOT, 'bench/results.json'));

const CONVERGENCE: ConvergenceOptions = {
  samples: quick ? 24 : 80,
  parallel: quick ? 8 : 16,
  propagationMs: 2_000,
  controllerLagMaxMs: 3_000,
  seed: 42,
};

const BURST: BurstOptions = {
  rollouts: quick ? 60 : 200,
  windowMs: quick ? 20_000 : 60_000,
  propagationMs: 2_000,
  controllerLagMaxMs: 3_000,
  seed: 7,
};

/** Issue 16: rollouts behind one shared ALB (an IngressGroup) stepping within 10 s, under the same budget. */
const INGRESS_GROUP: BurstOptions = {
  rollouts: quick ? 20 : 50,
  windowMs: 10_000,
  propagationMs: 2_000,
  controllerLagMaxMs: 3_000,
  seed: 11,
  group: 'shop-shared',
};

const FLOOD: FloodOptions = {
  notifications: quick ? 30 : 60,
  windowMs: quick ? 8_000 : 15_000,
  attackers: 32,
  networkRttMs: 1,
  invocationOverheadMs: 1,
  retryMax: 3,
  restApiThrottle: { rateLimit: 50, burstLimit: 100 },
  seed: 13,
};

const log = (message: string) => process.stderr.write(`${message}\n`);

const phaseSeconds: Record<string, number> = {};
async function phase<T>(name: string, description: string, run: () => Promise<T> | T): Promise<T> {
  log(`${description}…`);
  const started = Date.now();
  try {
    return await run();
  } finally {
    phaseSeconds[name] = Math.round((Date.now() - started) / 100) / 10;
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), 'rv-bench-'));
  try {
    const built = await phase('bundles', 'building the bundles (lib/bundling.ts options)', () =>
      buildBundles(workDir),
    );
    const byName = Object.fromEntries(built.map((bundle) => [bundle.name, bundle])) as Partial<
      Record<LambdaName, (typeof built)[number]>
    >;
    const verify = byName.verify?.file;
    const ingest = byName.ingest?.file;
    if (!verify || !ingest) throw new Error('the benchmark needs the verify and ingest handlers');
    const bundles = { verify, ingest };

    const cold = await phase('coldImports', 'cold imports', () =>
      measureColdImports(built, FUNCTION_ENV, quick ? 5 : 9),
    );
    const elbCalls = await phase(
      'elbCalls',
      'ELBv2 calls per verification (1 and 500 load balancers, and the Argo-style baseline)',
      () => measureElbCalls(bundles),
    );
    const overhead = await phase('handlerOverhead', 'handler overhead', () =>
      measureHandlerOverhead(bundles, { warmup: 50, invocations: quick ? 200 : 600 }),
    );
    const convergence = await phase(
      'convergence',
      `verdict after convergence (${CONVERGENCE.samples} rollouts, ${CONVERGENCE.parallel} at a time)`,
      () => measureConvergence(bundles, CONVERGENCE),
    );
    const burst = await phase(
      'burst',
      `burst (${BURST.rollouts} rollouts within ${BURST.windowMs / 1000} s, then until every verdict is in)`,
      () => measureBurst(bundles, BURST),
    );

    const burstWholeBudget = await phase(
      'burstWholeBudget',
      `burst again, verify given the whole Describe budget (VERIFY_DESCRIBE_SHARE=1)`,
      () => measureBurst(bundles, { ...BURST, describeShare: 1 }),
    );

    const ingressGroup = await phase(
      'ingressGroup',
      `IngressGroup (${INGRESS_GROUP.rollouts} rollouts behind one ALB within ${INGRESS_GROUP.windowMs / 1000} s)`,
      () => measureBurst(bundles, INGRESS_GROUP),
    );

    const flood = await phase(
      'unauthenticatedFlood',
      `unauthenticated flood (${FLOOD.attackers} clients) against ${FLOOD.notifications} Argo notifications, per front`,
      () => measureFlood(bundles, FLOOD),
    );

    const results = {
      schemaVersion: 1,
      date: new Date().toISOString(),
      quick,
      machine: {
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        cpu: cpus()[0]?.model ?? 'unknown',
        cpus: cpus().length,
        loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
      },
      elbCalls: {
        first: elbCalls.first,
        steady: elbCalls.steady,
        steadyWith500LoadBalancers: elbCalls.steadyWith500LoadBalancers,
        baselineWith500LoadBalancers: elbCalls.baselineWith500LoadBalancers,
        firstWith500LoadBalancers: elbCalls.firstWith500LoadBalancers,
        baselineWith1LoadBalancer: elbCalls.baselineWith1LoadBalancer,
        byAction: elbCalls.detail,
      },
      verdictAfterConvergenceMs: {
        p50: convergence.p50,
        p99: convergence.p99,
        samples: convergence.samples,
        notSucceeded: convergence.notSucceeded,
        observationsP50: convergence.observationsP50,
        describeCallsPerVerification: convergence.describeCallsPerVerification,
        settings: convergence.settings,
      },
      costPer1000Verifications: {
        ...costPer1000Verifications(convergence.usage),
        definition:
          'USD at list prices for 1,000 verifications of the convergence scenario (the ALB right 2-5 s after the notification): verify GB-seconds and requests as measured, the looks queue (SQS requests as measured: sends, receives, deletes), 2 EventBridge events and 2 idempotency writes each',
        burst: costPer1000Verifications(burst.usage).total,
      },
      handlerOverheadMs: {
        p50: overhead.p50,
        p99: overhead.p99,
        definition:
          'verify handler wall time per steady-state invocation minus the wall time an ELBv2/EventBridge HTTP exchange was open; simulators at zero latency, metrics disabled, logs silent, no idempotency table',
        totalMs: overhead.totalMs,
        httpMs: overhead.httpMs,
        invocations: overhead.invocations,
        exchangesPerInvocation: overhead.exchangesPerInvocation,
      },
      bundleBytes: Object.fromEntries(built.map((bundle) => [bundle.name, bundle.bytes])),
      bundleGzipBytes: Object.fromEntries(built.map((bundle) => [bundle.name, bundle.gzipBytes])),
      coldImportMs: cold.importMs,
      coldImport: { bareNodeMs: cold.bareNodeMs, runs: cold.runs, nodeVersion: cold.nodeVersion },
      burst: {
        rollouts: burst.rollouts,
        peakDescribePerSecond: burst.peakDescribePerSecond,
        throttledCalls: burst.throttledCalls,
        notSucceeded: burst.notSucceeded,
        lostEvents: burst.lostEvents,
        describeCalls: burst.describeCalls,
        published: burst.published,
        verdicts: burst.verdicts,
        findings: burst.findings,
        duplicateVerdicts: burst.duplicateVerdicts,
        ingestRejected: burst.ingestRejected,
        verifyMaxQueueWaitSeconds: burst.verifyMaxQueueWaitSeconds,
        lastVerdictAfterSeconds: burst.lastVerdictAfterSeconds,
        describeCallsPerVerification: burst.describeCallsPerVerification,
        verdictAfterStepMs: burst.verdictAfterStepMs,
        warmupSeconds: burst.warmupSeconds,
        settings: burst.settings,
      },
      burstWholeBudget: {
        describeShare: 1,
        lastVerdictAfterSeconds: burstWholeBudget.lastVerdictAfterSeconds,
        throttledCalls: burstWholeBudget.throttledCalls,
        peakDescribePerSecond: burstWholeBudget.peakDescribePerSecond,
        notSucceeded: burstWholeBudget.notSucceeded,
        lostEvents: burstWholeBudget.lostEvents,
        verdicts: burstWholeBudget.verdicts,
        findings: burstWholeBudget.findings,
        describeCalls: burstWholeBudget.describeCalls,
        describeCallsPerVerification: burstWholeBudget.describeCallsPerVerification,
        verdictAfterStepMs: burstWholeBudget.verdictAfterStepMs,
        verifyMaxQueueWaitSeconds: burstWholeBudget.verifyMaxQueueWaitSeconds,
        cost: costPer1000Verifications(burstWholeBudget.usage).total,
      },
      ingressGroup: {
        rollouts: ingressGroup.rollouts,
        describeCallsPerVerification: ingressGroup.describeCallsPerVerification,
        verdictAfterStepMs: ingressGroup.verdictAfterStepMs,
        throttledCalls: ingressGroup.throttledCalls,
        peakDescribePerSecond: ingressGroup.peakDescribePerSecond,
        lastVerdictAfterSeconds: ingressGroup.lastVerdictAfterSeconds,
        notSucceeded: ingressGroup.notSucceeded,
        lostEvents: ingressGroup.lostEvents,
        verdicts: ingressGroup.verdicts,
        findings: ingressGroup.findings,
        describeCalls: ingressGroup.describeCalls,
        settings: ingressGroup.settings,
      },
      unauthenticatedFlood: {
        before: flood.functionUrl,
        after: flood.restApiWithAllowList,
        scenarios: flood,
        settings: { ...FLOOD, reservedConcurrency: 5, clusterEgress: '203.0.113.0/28' },
      },
      bundleComposition: Object.fromEntries(
        built.map((bundle) => [bundle.name, bundle.composition.slice(0, 12)]),
      ),
      runtimeSeconds: Math.round((Date.now() - started) / 1000),
      phaseSeconds,
    };

    if (out) writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${renderTable(results)}\n`);
    if (out) process.stdout.write(`\nwritten to ${out} (${results.runtimeSeconds} s)\n`);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

type Results = {
  elbCalls: Record<string, unknown> & {
    first: number;
    steady: number;
    steadyWith500LoadBalancers: number;
    baselineWith500LoadBalancers: number;
    firstWith500LoadBalancers: number;
    baselineWith1LoadBalancer: number;
  };
  verdictAfterConvergenceMs: {
    p50: number;
    p99: number;
    samples: number;
    notSucceeded: number;
    describeCallsPerVerification: number;
  };
  costPer1000Verifications: CostPer1000 & { burst: number };
  handlerOverheadMs: { p50: number; p99: number; totalMs: { p50: number; p99: number } };
  bundleBytes: Record<string, number>;
  bundleGzipBytes: Record<string, number>;
  coldImportMs: Record<string, number>;
  coldImport: { bareNodeMs: number; nodeVersion: string };
  burst: {
    rollouts: number;
    peakDescribePerSecond: number;
    throttledCalls: number;
    notSucceeded: number;
    lostEvents: number;
    verdicts: Record<string, number>;
    lastVerdictAfterSeconds: number;
    describeCallsPerVerification: number;
  };
  burstWholeBudget: {
    lastVerdictAfterSeconds: number;
    throttledCalls: number;
    notSucceeded: number;
    lostEvents: number;
    verdicts: Record<string, number>;
    describeCallsPerVerification: number;
  };
  ingressGroup: {
    rollouts: number;
    describeCallsPerVerification: number;
    verdictAfterStepMs: { p50: number; p99: number };
    throttledCalls: number;
    notSucceeded: number;
    lostEvents: number;
  };
  unauthenticatedFlood: { scenarios: Record<string, FloodScenarioResult> };
};

/**
 * Describe calls per verification in the convergence scenario before issue 16 (full looks, backoff
 * 1 s doubling): the ceiling issue 16 keeps while it makes verdicts faster.
 */
const DESCRIBE_CALLS_BEFORE = 18.98;

function renderTable(results: Results): string {
  const status = (ok: boolean) => (ok ? 'ok' : 'MISSED');
  const {
    elbCalls: calls,
    verdictAfterConvergenceMs: converge,
    handlerOverheadMs: overhead,
    burst,
  } = results;
  const kb = (bytes: number) => `${(bytes / 1000).toFixed(0)} KB`;
  const rows: string[][] = [
    [
      'ELBv2 calls, first verification',
      `${calls.first} (500 LBs: ${calls.firstWith500LoadBalancers})`,
      '-',
      '-',
    ],
    [
      'ELBv2 calls, steady state',
      `${calls.steady} (500 LBs: ${calls.steadyWith500LoadBalancers})`,
      '<= 3, same with 500 LBs',
      status(calls.steady <= 3 && calls.steadyWith500LoadBalancers <= 3),
    ],
    [
      'ELBv2 calls, Argo-style baseline',
      `${calls.baselineWith1LoadBalancer} (500 LBs: ${calls.baselineWith500LoadBalancers}), every check`,
      '-',
      '-',
    ],
    [
      'verdict after ALB right (ms)',
      `p50 ${converge.p50}, p99 ${converge.p99} (n=${converge.samples})`,
      'p50 <= 600, p99 <= 1500 (before #16, same machine: p50 1510, p99 4700)',
      status(converge.p50 <= 600 && converge.p99 <= 1500 && converge.notSucceeded === 0),
    ],
    [
      'Describe calls per verification',
      `${converge.describeCallsPerVerification} (discovery + looks, ALB right 2-5 s after the notification)`,
      `<= ${DESCRIBE_CALLS_BEFORE} (before #16)`,
      status(converge.describeCallsPerVerification <= DESCRIBE_CALLS_BEFORE),
    ],
    [
      'cost per 1,000 verifications (USD)',
      `${results.costPer1000Verifications.total} (verify ${results.costPer1000Verifications.gbSecondsPerVerification} GB-s each; burst ${results.costPer1000Verifications.burst})`,
      '<= 0.01',
      status(results.costPer1000Verifications.total <= 0.01),
    ],
    [
      'verify handler overhead (ms)',
      `p50 ${overhead.p50}, p99 ${overhead.p99} (total p50 ${overhead.totalMs.p50})`,
      'p50 <= 5',
      status(overhead.p50 <= 5),
    ],
    ...Object.keys(results.bundleBytes).map((name) => [
      `${name} bundle`,
      `${kb(results.bundleBytes[name] ?? 0)} (gzip ${kb(results.bundleGzipBytes[name] ?? 0)})`,
      `<= ${kb(BUNDLE_BUDGET_BYTES)}`,
      status((results.bundleBytes[name] ?? 0) <= BUNDLE_BUDGET_BYTES),
    ]),
    ...Object.keys(results.coldImportMs).map((name) => [
      `${name} cold import (ms)`,
      `${results.coldImportMs[name]} beyond bare node (${results.coldImport.bareNodeMs})`,
      '<= 100',
      status((results.coldImportMs[name] ?? 0) <= 100),
    ]),
    [
      `burst: ${burst.rollouts} rollouts, last verdict (verify's default half of the budget)`,
      `+${burst.lastVerdictAfterSeconds} s (peak ${burst.peakDescribePerSecond} Describe/s, ${burst.describeCallsPerVerification} per verification)`,
      '<= 75 s (bound at 5/s: >= 400 target-health calls alone = 80 s)',
      status(burst.lastVerdictAfterSeconds <= 75),
    ],
    [
      'burst: throttled Describe calls',
      `${burst.throttledCalls}`,
      '<= 10',
      status(burst.throttledCalls <= 10),
    ],
    [
      'burst: verdicts',
      Object.entries(burst.verdicts)
        .map(([verdict, count]) => `${verdict} ${count}`)
        .join(', '),
      'no Failed from throttling',
      status((burst.verdicts.Failed ?? 0) === 0),
    ],
    [
      'burst: not Succeeded / lost events',
      `${burst.notSucceeded} / ${burst.lostEvents}`,
      '0 / 0',
      status(burst.lostEvents === 0 && burst.notSucceeded === 0),
    ],
  ];
  const whole = results.burstWholeBudget;
  rows.push(
    [
      'burst, verify given the whole budget: last verdict',
      `+${whole.lastVerdictAfterSeconds} s (${whole.describeCallsPerVerification} Describe calls per verification)`,
      '<= 75 s (bound at 10/s ≈ 45 s of calls, the last step at +60 s)',
      status(whole.lastVerdictAfterSeconds <= 75),
    ],
    [
      'burst, whole budget: throttled / not Succeeded / lost',
      `${whole.throttledCalls} / ${whole.notSucceeded} / ${whole.lostEvents} (${Object.entries(whole.verdicts)
        .map(([verdict, count]) => `${verdict} ${count}`)
        .join(', ')})`,
      '<= 10 / 0 / 0',
      status(whole.throttledCalls <= 10 && whole.notSucceeded === 0 && whole.lostEvents === 0),
    ],
  );
  const group = results.ingressGroup;
  rows.push(
    [
      `IngressGroup: ${group.rollouts} rollouts, one ALB`,
      `${group.describeCallsPerVerification} Describe calls per verification`,
      '<= 1.5 (floor 2.0: each rollout has its own two target groups; rules shared per batch)',
      status(group.describeCallsPerVerification <= 1.5),
    ],
    [
      'IngressGroup: verdict after step (ms)',
      `p50 ${group.verdictAfterStepMs.p50}, p99 ${group.verdictAfterStepMs.p99}; ${group.throttledCalls} throttled; not Succeeded / lost ${group.notSucceeded} / ${group.lostEvents}`,
      'ALB right 2-5 s after the step; 0 / 0',
      status(group.notSucceeded === 0 && group.lostEvents === 0),
    ],
  );
  const lost = (scenario: FloodScenarioResult) =>
    `${scenario.argo.lost}/${scenario.argo.notifications} lost, ${scenario.argo.deliveredAfterRetries} after retries, ` +
    `p99 ${scenario.argo.deliveryMs.p99} ms; flood ${scenario.flood.requestsPerSecond}/s, ${scenario.flood.invocations} invocations`;
  const floods = results.unauthenticatedFlood.scenarios;
  rows.push(
    ...Object.entries(floods).map(([name, scenario]) => [
      `flood: Argo via ${name}`,
      lost(scenario),
      name === 'restApiWithAllowList' || name === 'noFlood' ? 'lost = 0' : '-',
      name === 'restApiWithAllowList' || name === 'noFlood' ? status(scenario.argo.lost === 0) : '-',
    ]),
  );
  return [
    `rollout-verifier bench (${results.coldImport.nodeVersion}, simulators on 127.0.0.1)`,
    '',
    formatTable(['METRIC', 'RESULT', 'TARGET', 'STATUS'], rows),
  ].join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
