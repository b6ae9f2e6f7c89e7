import { beforeAll, describe, type ExpectStatic, it } from 'vitest';
import { EXIT, runCli } from '../../cli/program.js';
import { type Finding, VerdictEventDetail } from '../../lambdas/core/contracts/verdict-event.js';
import { isObservationGap } from '../../lambdas/core/judge/index.js';
import { createElbApi } from '../../lambdas/core/routers/alb/client.js';
import { createRouters } from '../../lambdas/core/routers/index.js';
import { verifyRollout } from '../../lambdas/core/verify.js';
import { CHECKOUT_INGRESS, checkoutVerifyArgs } from '../../sim/elbv2/checkout.js';
import { type Elbv2Sim, type IngressAlb, type IngressAlbSpec, startElbv2Sim } from '../../sim/elbv2/index.js';
import { captureCliIo } from './cli-io.js';
import {
  ELBV2_WIRE_FAULTS,
  type Elbv2Call,
  type Elbv2WireFault,
  elbv2WireFault,
  VERIFIER_ELBV2_CALLS,
} from './elbv2-wire-faults.js';
import {
  CASE_TIMEOUT_MS,
  type FaultOutcome,
  FIRST_DEADLINE_SECONDS,
  runUnstarved,
  staggeredStart,
  TIMINGS,
  type Timing,
} from './fault-matrix.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { rolloutEvent } from './rollout-events.js';
import { expectedFindingCode } from './wire-faults.js';

/**
 * Issue 11 §1: faults on the wire never become verdicts. Every ELBv2 call the verifier makes ×
 * every fault × three moments, through the real SDK over HTTP — a fault-injecting proxy in front
 * of the ELBv2 simulator — on one path: the verify handler's (`verifyRollout` with the production
 * converge settings scaled down) or the CLI's. The faults last until the deadline, so no complete
 * observation follows them: the verdict must be Inconclusive, name the fault, and keep what the
 * last complete observation saw as evidence from an earlier observation. Next to them, genuine
 * failures through the same proxy must still fail.
 */

export type VerifierPath = 'verify handler' | 'CLI';

/** A first look: discovery by name (load balancer, its target groups, their tags, listeners, rules ×2), then rules by ARN and target health ×2. */
const FIRST_LOOK_REQUESTS = 9;
/** Cases in flight at once: they mostly wait for their deadline, each with its own simulator and proxy. */
export const CONCURRENCY = 84;
/** The verify handler's converge settings (1 s doubling to 5 s), 5× faster. */
const HANDLER_SETTINGS = { initialDelayMs: 200, maxDelayMs: 1_000 };

function setWeights(sim: Elbv2Sim, alb: IngressAlb, canary: number): void {
  for (const ruleArn of alb.ruleArns) {
    sim.setRuleWeights(ruleArn, {
      [alb.canaryTargetGroupArn]: canary,
      [alb.stableTargetGroupArn]: 100 - canary,
    });
  }
}

/** The controller re-creates the rules (new ARNs): the cached topology goes stale and discovery runs again. */
function recreateRules(sim: Elbv2Sim, alb: IngressAlb, canary: number): void {
  for (const listener of alb.listeners) {
    sim.deleteRule(listener.ruleArn);
    sim.addRule(listener.listenerArn, {
      priority: 1,
      conditions: [{ field: 'path-pattern', values: ['/*'] }],
      actions: [
        {
          type: 'forward',
          targetGroups: [
            { targetGroupArn: alb.stableTargetGroupArn, weight: 100 - canary },
            { targetGroupArn: alb.canaryTargetGroupArn, weight: canary },
          ],
        },
      ],
    });
  }
}

/** The verdict for shop/checkout at canary 20, through the proxy; the CLI's exit code must agree with it. */
async function verdictVia(
  path: VerifierPath,
  endpoint: string,
  deadlineSeconds: number = FIRST_DEADLINE_SECONDS,
): Promise<VerdictEventDetail> {
  if (path === 'verify handler') {
    const routers = createRouters({ elb: createElbApi({ region: 'eu-west-1', endpoint }) });
    return await verifyRollout(rolloutEvent({ deadlineSeconds }), routers, HANDLER_SETTINGS);
  }
  const run = captureCliIo();
  const code = await runCli(
    checkoutVerifyArgs(endpoint, 20, '--timeout', `${deadlineSeconds}s`, '--json'),
    run.io,
  );
  const verdict = VerdictEventDetail.parse(JSON.parse(run.stdout()));
  if (code !== EXIT[verdict.verdict]) throw new Error(`exit ${code} for a ${verdict.verdict} verdict`);
  return verdict;
}

/** A simulator seeded with shop/checkout's ALB, behind a fault proxy; both closed after `use`. */
async function withProxiedAlb<T>(
  spec: Partial<IngressAlbSpec>,
  use: (sim: Elbv2Sim, alb: IngressAlb, proxy: FaultProxy) => Promise<T>,
): Promise<T> {
  const sim = await startElbv2Sim({ rateLimit: false });
  const alb = sim.addIngressAlb({ ...CHECKOUT_INGRESS, ...spec });
  const proxy = await startFaultProxy({ upstream: sim.endpoint });
  try {
    return await use(sim, alb, proxy);
  } finally {
    await proxy.close();
    await sim.close();
  }
}

/**
 * One case: the ALB at the step's weights (before the first look) or lagging at 0 — and, after
 * convergence, at the step's weights once the first look is done. The fault is armed from the
 * start or right after the first look's requests; on a discovery call, the rules are re-created
 * then so that discovery runs again, through the fault.
 */
function runCase(
  path: VerifierPath,
  call: Elbv2Call,
  fault: Elbv2WireFault,
  timing: Timing,
  deadlineSeconds: number,
): Promise<FaultOutcome> {
  const lagging = timing !== 'before the first look';
  return withProxiedAlb({ canaryWeight: lagging ? 0 : 20 }, async (sim, alb, proxy) => {
    const arm = () => {
      proxy.inject({ match: call.match, fault: elbv2WireFault(fault, call.action) });
      const canary = timing === 'after convergence' ? 20 : 0;
      setWeights(sim, alb, canary);
      if (call.discovery) recreateRules(sim, alb, canary);
    };
    if (lagging) {
      proxy.tap((_, index) => {
        if (index === FIRST_LOOK_REQUESTS) arm();
      });
    } else arm();
    return { verdict: await verdictVia(path, proxy.url, deadlineSeconds), proxy };
  });
}

const describeFinding = (finding: Finding) =>
  `${finding.code}${finding.earlierObservation ? ` (observation ${finding.earlierObservation.attempt})` : ''}: ${finding.message}`;

function expectFaultIsNotAVerdict(
  expect: ExpectStatic,
  { verdict, starved }: FaultOutcome & { starved?: string },
  fault: Elbv2WireFault,
  timing: Timing,
): void {
  const findings = verdict.findings.map(describeFinding).join(', ');
  expect(starved, findings).toBeUndefined();
  expect(verdict.verdict, findings).toBe('Inconclusive');

  // Why: gaps only, the fault's among them. A definite finding appears only as earlier evidence.
  const reasons = verdict.findings.filter(
    (finding) => finding.earlierObservation === undefined || isObservationGap(finding),
  );
  expect(reasons.every(isObservationGap), findings).toBe(true);
  expect(
    reasons.map((finding) => finding.code),
    findings,
  ).toContain(expectedFindingCode(fault));

  const mismatches = verdict.findings.filter((finding) => finding.code === 'WeightMismatch');
  if (timing === 'before the first look') {
    expect(mismatches, findings).toEqual([]);
    expect(verdict.evidence, 'nothing was seen').toBeUndefined();
  } else {
    // The lagging first look was complete: its mismatch on both listeners is kept, marked as such.
    expect(
      mismatches.map((finding) => finding.earlierObservation?.attempt),
      findings,
    ).toEqual([1, 1]);
    expect(verdict.evidence).toMatchObject({ attempt: 1, complete: true });
  }
}

/**
 * The matrix on one path, at the given timings. Before it, one clean verification on that path:
 * the SDK loads parts of itself on first use, which would otherwise slow the first cases' looks.
 */
export function describeElbv2FaultMatrix(path: VerifierPath, timings: readonly Timing[] = TIMINGS): void {
  describe(`${path}: ELBv2 faults on the wire never become verdicts`, () => {
    const cases = VERIFIER_ELBV2_CALLS.flatMap((call) =>
      ELBV2_WIRE_FAULTS.flatMap((fault) => timings.map((timing) => ({ call, fault, timing }))),
    );

    beforeAll(async () => {
      await withProxiedAlb({ canaryWeight: 20 }, (_, __, proxy) => verdictVia(path, proxy.url));
    });

    it('covers every call the verifier makes × every fault × each timing', ({ expect }) => {
      expect(cases).toHaveLength(7 * 8 * timings.length);
    });

    describe.concurrent('Inconclusive, naming the fault, the last complete observation kept as earlier evidence', () => {
      cases.forEach(({ call, fault, timing }, index) => {
        it(`${call.name}, ${fault}, ${timing}`, { timeout: CASE_TIMEOUT_MS }, async ({ expect }) => {
          await staggeredStart(index, CONCURRENCY, FIRST_DEADLINE_SECONDS * 1000);
          const outcome = await runUnstarved(
            (deadlineSeconds) => runCase(path, call, fault, timing, deadlineSeconds),
            expectedFindingCode(fault),
            timing,
          );
          expectFaultIsNotAVerdict(expect, outcome, fault, timing);
        });
      });
    });
  });

  describe.concurrent(`${path}: genuine failures through the same proxy still fail`, () => {
    it('a wrong split in a complete last observation is Failed', async ({ expect }) => {
      const verdict = await withProxiedAlb({ canaryWeight: 0 }, (_, __, proxy) =>
        verdictVia(path, proxy.url),
      );
      expect(verdict.verdict).toBe('Failed');
      expect(verdict.findings.map((finding) => [finding.code, finding.earlierObservation])).toEqual([
        ['WeightMismatch', undefined],
        ['WeightMismatch', undefined],
      ]);
      expect(verdict.evidence).toMatchObject({ attempt: verdict.attempts, complete: true });
    });

    it('an empty target group carrying weight (<TargetHealthDescriptions/>) is Failed', async ({
      expect,
    }) => {
      const verdict = await withProxiedAlb(
        { canaryWeight: 20, targets: { stable: 3, canary: 0 } },
        (_, __, proxy) => verdictVia(path, proxy.url),
      );
      expect(verdict.verdict).toBe('Failed');
      expect(verdict.findings).toMatchObject([
        {
          code: 'InsufficientHealthyTargets',
          expected: 1,
          observed: 0,
          message: expect.stringContaining('no registered targets'),
        },
      ]);
    });

    it('the same ALB without a fault is Succeeded', async ({ expect }) => {
      const verdict = await withProxiedAlb({ canaryWeight: 20 }, (_, __, proxy) =>
        verdictVia(path, proxy.url),
      );
      expect(verdict).toMatchObject({
        verdict: 'Succeeded',
        findings: [],
        evidence: { attempt: 1, complete: true },
      });
    });
  });
}
