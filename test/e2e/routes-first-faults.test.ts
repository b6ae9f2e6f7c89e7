import { describe, expect, it, vi } from 'vitest';
import type { VerdictEventDetail } from '../../lambdas/core/contracts/verdict-event.js';
import { isObservationGap } from '../../lambdas/core/judge/index.js';
import { createElbApi } from '../../lambdas/core/routers/alb/client.js';
import { createRouters } from '../../lambdas/core/routers/index.js';
import { verifyRollout } from '../../lambdas/core/verify.js';
import { CHECKOUT_INGRESS } from '../../sim/elbv2/checkout.js';
import { type Elbv2Sim, type IngressAlb, startElbv2Sim } from '../../sim/elbv2/index.js';
import { ELBV2_WIRE_FAULTS, elbv2WireFault, VERIFIER_ELBV2_CALLS } from '../support/elbv2-wire-faults.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { rolloutEvent } from '../support/rollout-events.js';
import { expectedFindingCode } from '../support/wire-faults.js';

/**
 * The verify function reads target health only once the weights match (and in the last 3 s before
 * the deadline): its evidence rules under faults on that read, through the real SDK, a fault proxy
 * and the ELBv2 simulator. With a 5 s deadline the first two seconds are routes-only looks.
 */

vi.setConfig({ maxConcurrency: 20 });

const DEADLINE_SECONDS = 5;
const HANDLER_SETTINGS = { initialDelayMs: 100, maxDelayMs: 500, steadyLooks: 10, routesFirst: true };
const TARGET_HEALTH = VERIFIER_ELBV2_CALLS.find((call) => call.action === 'DescribeTargetHealth');

function setWeights(sim: Elbv2Sim, alb: IngressAlb, canary: number): void {
  for (const ruleArn of alb.ruleArns) {
    sim.setRuleWeights(ruleArn, {
      [alb.canaryTargetGroupArn]: canary,
      [alb.stableTargetGroupArn]: 100 - canary,
    });
  }
}

async function verdictWith(
  canary: number,
  arrange: (sim: Elbv2Sim, alb: IngressAlb, proxy: FaultProxy) => void,
): Promise<{ verdict: VerdictEventDetail; requests: FaultProxy['requests'] }> {
  const sim = await startElbv2Sim({ rateLimit: false });
  const alb = sim.addIngressAlb({ ...CHECKOUT_INGRESS, canaryWeight: canary });
  const proxy = await startFaultProxy({ upstream: sim.endpoint });
  try {
    arrange(sim, alb, proxy);
    const routers = createRouters({ elb: createElbApi({ region: 'eu-west-1', endpoint: proxy.url }) });
    const verdict = await verifyRollout(
      rolloutEvent({ deadlineSeconds: DEADLINE_SECONDS }),
      routers,
      HANDLER_SETTINGS,
    );
    return { verdict, requests: [...proxy.requests] };
  } finally {
    await proxy.close();
    await sim.close();
  }
}

const actionOf = (body: string) => new URLSearchParams(body).get('Action');

describe.concurrent('routes first: a fault on the target health read never becomes a verdict', () => {
  if (!TARGET_HEALTH) throw new Error('the fault matrix lost DescribeTargetHealth');
  for (const fault of ELBV2_WIRE_FAULTS) {
    for (const weights of ['right from the start', 'wrong until the deadline'] as const) {
      it(`${fault}, weights ${weights}`, { timeout: 20_000 }, async () => {
        const { verdict, requests } = await verdictWith(
          weights === 'right from the start' ? 20 : 0,
          (_, __, proxy) => {
            proxy.inject({
              match: TARGET_HEALTH.match,
              fault: elbv2WireFault(fault, 'DescribeTargetHealth'),
            });
          },
        );
        expect(verdict.verdict).toBe('Inconclusive');
        const gaps = verdict.findings.filter(isObservationGap).map((finding) => finding.code);
        expect(gaps).toContain(expectedFindingCode(fault));
        // A definite finding only as earlier evidence: the routes-only looks saw the mismatch.
        const definite = verdict.findings.filter((finding) => !isObservationGap(finding));
        expect(definite.every((finding) => finding.earlierObservation !== undefined)).toBe(true);
        if (weights === 'wrong until the deadline') {
          expect(definite.map((finding) => finding.code)).toEqual(['WeightMismatch', 'WeightMismatch']);
          // the early looks did not read target health at all
          const firstHealthRead = requests.findIndex(
            (request) => actionOf(request.body) === 'DescribeTargetHealth',
          );
          const looksBefore = requests
            .slice(0, firstHealthRead)
            .filter((request) => new URLSearchParams(request.body).has('RuleArns.member.1')).length;
          expect(looksBefore).toBeGreaterThan(1);
        }
      });
    }
  }
});

describe.concurrent('routes first: genuine outcomes', () => {
  it('weights wrong until the deadline: Failed, on a full last observation', async () => {
    const { verdict, requests } = await verdictWith(0, () => undefined);
    expect(verdict.verdict).toBe('Failed');
    expect(verdict.findings.map((finding) => [finding.code, finding.earlierObservation])).toEqual([
      ['WeightMismatch', undefined],
      ['WeightMismatch', undefined],
    ]);
    expect(verdict.evidence).toMatchObject({ attempt: verdict.attempts, complete: true });
    expect(verdict.evidence?.backends).toHaveLength(2);
    const rulesReads = requests.filter((request) =>
      new URLSearchParams(request.body).has('RuleArns.member.1'),
    );
    const healthReads = requests.filter((request) => actionOf(request.body) === 'DescribeTargetHealth');
    expect(healthReads.length).toBeLessThan(2 * rulesReads.length);
  });

  it('weights applied after a few looks: Succeeded on the first look that sees them, health read then', async () => {
    const { verdict, requests } = await verdictWith(0, (sim, alb, proxy) => {
      let looks = 0;
      proxy.tap((request) => {
        if (new URLSearchParams(request.body).has('RuleArns.member.1') && ++looks === 3)
          setWeights(sim, alb, 20);
      });
    });
    expect(verdict.verdict).toBe('Succeeded');
    expect(verdict.attempts).toBe(3);
    expect(requests.filter((request) => actionOf(request.body) === 'DescribeTargetHealth')).toHaveLength(2);
    expect(verdict.evidence?.backends).toHaveLength(2);
  });
});
