import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../cli/program.js';
import { VerdictEventDetail } from '../../lambdas/core/contracts/verdict-event.js';
import { createElbApi } from '../../lambdas/core/routers/alb/client.js';
import { AlbRouter } from '../../lambdas/core/routers/alb/router.js';
import { CHECKOUT_INGRESS, checkoutVerifyArgs } from '../../sim/elbv2/checkout.js';
import { type Elbv2Sim, type IngressAlb, startElbv2Sim } from '../../sim/elbv2/index.js';
import { captureCliIo } from '../support/cli-io.js';

/**
 * The CLI and the ALB router with the real SDK v3 client, over HTTP, against the loopback
 * ELBv2 simulator whose XML is checked against the AWS API reference examples.
 */

let sim: Elbv2Sim;
let alb: IngressAlb;

const verify = (canaryWeight: number, ...extra: string[]) => {
  const run = captureCliIo();
  return runCli(checkoutVerifyArgs(sim.endpoint, canaryWeight, ...extra), run.io).then((code) => ({
    code,
    ...run,
  }));
};

beforeEach(async () => {
  sim = await startElbv2Sim();
  alb = sim.addIngressAlb({ ...CHECKOUT_INGRESS, canaryWeight: 20 });
});

afterEach(async () => {
  await sim.close();
});

describe('CLI against the ELBv2 simulator', () => {
  it('Succeeded (exit 0) when every listener carries 20/80 to healthy targets', async () => {
    const { code, stdout } = await verify(20);
    expect(code).toBe(EXIT.Succeeded);
    expect(stdout()).toContain('✔ Succeeded');
    expect(stdout()).toMatch(
      /rule priority 1 on HTTP:80 of k8s-shop-checkout-\w{10} \(path-pattern \/\*\): canary 20 \/ stable 80/,
    );
    expect(stdout()).toMatch(/rule priority 1 on HTTPS:443/);
  });

  it('Failed (exit 1) when the controller never applies the step weight', async () => {
    for (const ruleArn of alb.ruleArns) {
      sim.setRuleWeights(ruleArn, { [alb.canaryTargetGroupArn]: 0, [alb.stableTargetGroupArn]: 100 });
    }
    const { code, stdout } = await verify(20, '--timeout', '2s', '--json');
    expect(code).toBe(EXIT.Failed);
    const verdict = VerdictEventDetail.parse(JSON.parse(stdout()));
    expect(verdict.findings.map((finding) => [finding.code, finding.resource])).toEqual(
      alb.ruleArns.map((ruleArn) => ['WeightMismatch', ruleArn]),
    );
    expect(verdict.attempts).toBeGreaterThan(1);
  });

  it('Succeeded once the weights arrive within the deadline', async () => {
    sim.setRuleWeights(alb.ruleArns[0]!, { [alb.canaryTargetGroupArn]: 0, [alb.stableTargetGroupArn]: 100 });
    setTimeout(
      () =>
        sim.setRuleWeights(alb.ruleArns[0]!, {
          [alb.canaryTargetGroupArn]: 20,
          [alb.stableTargetGroupArn]: 80,
        }),
      300,
    );
    const { code, stdout } = await verify(20, '--timeout', '8s', '--json');
    expect(code).toBe(EXIT.Succeeded);
    expect(JSON.parse(stdout()).attempts).toBeGreaterThan(1);
  });

  it('Failed (exit 1) on an unhealthy canary target', async () => {
    sim.failHealthChecks(alb.canaryTargetGroupArn, alb.canaryTargetIds[0]!, 'Target.ResponseCodeMismatch');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { code, stdout } = await verify(20, '--timeout', '1s');
    expect(code).toBe(EXIT.Failed);
    expect(stdout()).toContain('UnhealthyTargets');
    expect(stdout()).toContain('Target.ResponseCodeMismatch');
  });

  it('Inconclusive (exit 2) naming the IAM action when access is denied', async () => {
    sim.denyAction('DescribeTargetHealth');
    const { code, stdout } = await verify(20, '--json');
    expect(code).toBe(EXIT.Inconclusive);
    const verdict = VerdictEventDetail.parse(JSON.parse(stdout()));
    expect(verdict.findings).toMatchObject([
      { code: 'AccessDenied', missingPermission: 'elasticloadbalancing:DescribeTargetHealth' },
    ]);
    expect(verdict.attempts).toBe(1);
  });

  it('Inconclusive (exit 2), never Failed, when throttled past the deadline', async () => {
    sim.setRateLimit({ burst: 0, refillPerSecond: 0 });
    const { code, stdout } = await verify(20, '--timeout', '2s', '--json');
    expect(code).toBe(EXIT.Inconclusive);
    expect(JSON.parse(stdout()).findings.map((finding: { code: string }) => finding.code)).toEqual([
      'Throttled',
    ]);
    expect(sim.throttledCalls()).toBeGreaterThan(0);
  });

  it('Inconclusive (exit 2) naming the region when nothing is there', async () => {
    const { code, stdout } = await verify(20, '--ingress', 'payments', '--timeout', '1s', '--json');
    expect(code).toBe(EXIT.Inconclusive);
    const [finding] = JSON.parse(stdout()).findings;
    expect(finding).toMatchObject({ code: 'ResourceNotFound', resource: 'ingress/shop/payments' });
    expect(finding.message).toContain('eu-west-1');
  });

  // The packed, installed command (compiled, no tsx) is run by test/package/installed-package.test.ts.
  it('runs as a process of its own and honours AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2', async () => {
    const bin = fileURLToPath(new URL('../../bin/cli.ts', import.meta.url));
    const args = [
      'verify',
      '--rollout',
      'shop/checkout',
      '--canary-weight',
      '20',
      '--cluster',
      'prod',
      '--json',
    ];
    const env = {
      ...process.env,
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: sim.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', bin, ...args], {
      env,
    });
    expect(VerdictEventDetail.parse(JSON.parse(stdout)).verdict).toBe('Succeeded');
  });
});

describe('ELBv2 calls per verification (measured at the simulator)', () => {
  async function callsFor(
    router: AlbRouter,
  ): Promise<{ first: number; steady: number; steadyByAction: Record<string, number> }> {
    const target = {
      namespace: 'shop',
      cluster: 'prod',
      traffic: {
        router: 'alb' as const,
        ingresses: [{ ingress: 'checkout' }],
        stableService: 'checkout',
        canaryService: 'checkout-canary',
        servicePort: 80,
      },
    };
    sim.resetCalls();
    await router.observe(target);
    const first = Object.values(sim.calls()).reduce((sum, count) => sum + count, 0);
    sim.resetCalls();
    const observation = await router.observe(target);
    expect(observation.problems).toEqual([]);
    expect(observation.routes).toHaveLength(2);
    const steadyByAction = sim.calls();
    return {
      first,
      steady: Object.values(steadyByAction).reduce((sum, count) => sum + count, 0),
      steadyByAction,
    };
  }

  it('discovers in 9 calls and re-observes in 3, with 1 load balancer or 500 in the account', async () => {
    const aloneApi = createElbApi({ region: 'eu-west-1', endpoint: sim.endpoint });
    const alone = await callsFor(new AlbRouter(aloneApi));
    sim.addUnrelatedLoadBalancers(500, { withTargetGroups: true });
    const crowded = await callsFor(
      new AlbRouter(createElbApi({ region: 'eu-west-1', endpoint: sim.endpoint })),
    );
    // what the verifier reports as ElbApiCalls is what the account's budget saw
    expect(aloneApi.requestCount).toBe(alone.first + alone.steady);
    expect(alone).toEqual(crowded);
    // LB by name, its target groups, their tags, listeners, rules of 2 listeners; then the 3 of every observation
    expect(alone.first).toBe(9);
    expect(alone.steady).toBe(3);
    expect(alone.steadyByAction).toEqual({ DescribeRules: 1, DescribeTargetHealth: 2 });
  });

  it('spends 6 calls on a first verification when the event carries the ARNs Argo recorded', async () => {
    const router = new AlbRouter(createElbApi({ region: 'eu-west-1', endpoint: sim.endpoint }));
    const ingress = {
      ingress: 'checkout',
      loadBalancerArn: alb.loadBalancerArn,
      stableTargetGroupArn: alb.stableTargetGroupArn,
      canaryTargetGroupArn: alb.canaryTargetGroupArn,
    };
    sim.resetCalls();
    const observation = await router.observe({
      namespace: 'shop',
      traffic: {
        router: 'alb',
        ingresses: [ingress],
        stableService: 'checkout',
        canaryService: 'checkout-canary',
        servicePort: 80,
      },
    });
    expect(observation.routes).toHaveLength(2);
    expect(sim.calls()).toEqual({ DescribeListeners: 1, DescribeRules: 3, DescribeTargetHealth: 2 });
  });
});
