import {
  DescribeRulesCommand,
  type DescribeRulesCommandInput,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ElbApi } from '../../lambdas/core/routers/alb/elb-api.js';
import { createRouters } from '../../lambdas/core/routers/index.js';
import { verifyRollout } from '../../lambdas/core/verify.js';
import {
  CHECKOUT_CANARY_TG,
  CHECKOUT_RULE,
  CHECKOUT_STABLE_TG,
  mockCheckoutAlb,
} from '../support/alb-mock.js';
import { rolloutEvent } from '../support/rollout-events.js';

const elb = mockClient(ElasticLoadBalancingV2Client);
const fast = { initialDelayMs: 10, maxDelayMs: 20, steadyLooks: 10, routesFirst: true };

/** The checkout ALB whose rule reads `canary` by ARN for the first `wrongLooks` looks, then 20/80. */
function convergingAfter(wrongLooks: number, wrong = { canary: 0, stable: 100 }) {
  mockCheckoutAlb(elb, { canary: 20, stable: 80 });
  let looks = 0;
  elb.on(DescribeRulesCommand).callsFake((input: DescribeRulesCommandInput) => {
    // Discovery lists the listener's rules; observations read them by ARN.
    const { canary, stable } = input.RuleArns && looks++ < wrongLooks ? wrong : { canary: 20, stable: 80 };
    return {
      Rules: [
        {
          RuleArn: CHECKOUT_RULE,
          Priority: '1',
          Actions: [
            {
              Type: 'forward',
              ForwardConfig: {
                TargetGroups: [
                  { TargetGroupArn: CHECKOUT_CANARY_TG, Weight: canary },
                  { TargetGroupArn: CHECKOUT_STABLE_TG, Weight: stable },
                ],
              },
            },
          ],
        },
      ],
    };
  });
}

const byArn = () => elb.commandCalls(DescribeRulesCommand).filter((call) => call.args[0].input.RuleArns);
const healthReads = () => elb.commandCalls(DescribeTargetHealthCommand).length;

beforeEach(() => {
  elb.reset();
});

describe('verifyRollout: routes first, target health once the weights match', () => {
  it('reads only DescribeRules while the weights are wrong, then both target groups once', async () => {
    convergingAfter(4);
    const routers = createRouters({
      elb: new ElbApi(new ElasticLoadBalancingV2Client({ region: 'eu-west-1' })),
    });
    const verdict = await verifyRollout(rolloutEvent({ deadlineSeconds: 10 }), routers, fast);
    expect(verdict.verdict).toBe('Succeeded');
    expect(verdict.attempts).toBe(5);
    expect(byArn()).toHaveLength(5);
    expect(healthReads()).toBe(2);
    expect(verdict.evidence?.backends.map((backend) => backend.resource).sort()).toEqual(
      [CHECKOUT_CANARY_TG, CHECKOUT_STABLE_TG].sort(),
    );
  });

  it('reads everything on every look without routesFirst (the CLI)', async () => {
    convergingAfter(2);
    const routers = createRouters({
      elb: new ElbApi(new ElasticLoadBalancingV2Client({ region: 'eu-west-1' })),
    });
    const verdict = await verifyRollout(rolloutEvent({ deadlineSeconds: 10 }), routers, {
      ...fast,
      routesFirst: false,
    });
    expect(verdict.verdict).toBe('Succeeded');
    expect(byArn()).toHaveLength(3);
    expect(healthReads()).toBe(6);
  });

  it('a Failed verdict still rests on a full observation: the looks near the deadline read target health', async () => {
    convergingAfter(Number.POSITIVE_INFINITY);
    const routers = createRouters({
      elb: new ElbApi(new ElasticLoadBalancingV2Client({ region: 'eu-west-1' })),
    });
    const verdict = await verifyRollout(rolloutEvent({ deadlineSeconds: 4 }), routers, fast);
    expect(verdict.verdict).toBe('Failed');
    expect(verdict.findings.map((finding) => finding.code)).toEqual(['WeightMismatch']);
    expect(verdict.evidence?.complete).toBe(true);
    expect(verdict.evidence?.backends).toHaveLength(2);
    // the looks of the first second read the rules alone
    expect(healthReads()).toBeLessThan(2 * byArn().length);
  }, 10_000);
});
