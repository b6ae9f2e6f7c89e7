import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../cli/program.js';
import { TrafficObservedEventDetail } from '../../lambdas/core/contracts/traffic-observed-event.js';
import { type CloudWatchSim, putAlbMinute, startCloudWatchSim } from '../../sim/cloudwatch.js';
import { CHECKOUT_INGRESS, checkoutVerifyArgs } from '../../sim/elbv2/checkout.js';
import { type Elbv2Sim, type IngressAlb, startElbv2Sim } from '../../sim/elbv2/index.js';
import { captureCliIo } from '../support/cli-io.js';

/** `verify --observed`: the real ELBv2 and CloudWatch clients against both loopback simulators. */

let elb: Elbv2Sim;
let alb: IngressAlb;
let cloudwatch: CloudWatchSim;
const MINUTE = 60_000;

beforeEach(async () => {
  elb = await startElbv2Sim();
  alb = elb.addIngressAlb({ ...CHECKOUT_INGRESS, canaryWeight: 20 });
  cloudwatch = await startCloudWatchSim();
});

afterEach(async () => {
  await Promise.all([elb.close(), cloudwatch.close()]);
});

/** The last `minutes` whole minutes before the publication delay (3 min), canary/stable requests each. */
function served(canary: number, stable: number, minutes = 5) {
  const lastPublished = Math.floor((Date.now() - 3 * MINUTE) / MINUTE) * MINUTE;
  for (let i = 1; i <= minutes; i++) {
    const at = lastPublished - i * MINUTE;
    putAlbMinute(cloudwatch, alb.loadBalancerArn, alb.canaryTargetGroupArn, { at, requests: canary });
    putAlbMinute(cloudwatch, alb.loadBalancerArn, alb.stableTargetGroupArn, { at, requests: stable });
  }
}

const verifyObserved = async (...extra: string[]) => {
  const run = captureCliIo();
  const code = await runCli(
    checkoutVerifyArgs(
      elb.endpoint,
      20,
      '--observed',
      ...extra,
      '--cloudwatch-endpoint-url',
      cloudwatch.endpoint,
    ),
    run.io,
  );
  return { code, ...run };
};

describe('verify --observed', () => {
  it('Succeeded (exit 0) when the ALB served the configured 20 %', async () => {
    served(41, 159);
    const { code, stdout } = await verifyObserved('5m');
    expect(code).toBe(EXIT.Succeeded);
    expect(stdout()).toContain('✔ Succeeded  traffic observed');
    expect(stdout()).toContain('canary served 20.5 %');
    expect(cloudwatch.calls.map((call) => call.operation)).toEqual(['GetMetricData']);
  });

  it('Failed (exit 1) ObservedSplitMismatch when the ALB served 45 %, with --json', async () => {
    served(90, 110);
    const { code, stdout } = await verifyObserved('5m', '--json');
    expect(code).toBe(EXIT.Failed);
    const output = JSON.parse(stdout());
    expect(output.verdict.verdict).toBe('Succeeded');
    const traffic = TrafficObservedEventDetail.parse(output.trafficObserved);
    expect(traffic.findings.map((finding) => finding.code)).toEqual(['ObservedSplitMismatch']);
    expect(traffic.observedShare).toBe(0.45);
  });

  it('Inconclusive (exit 2) InsufficientTraffic on a quiet step; --min-requests raises the bar', async () => {
    served(4, 16);
    const quiet = await verifyObserved();
    expect(quiet.code).toBe(EXIT.Inconclusive);
    expect(quiet.stdout()).toContain('InsufficientTraffic');
    served(40, 160);
    const strict = await verifyObserved('5m', '--min-requests', '5000');
    expect(strict.code).toBe(EXIT.Inconclusive);
  });

  it('refuses bad knobs before calling anything', async () => {
    const run = captureCliIo();
    expect(await runCli(checkoutVerifyArgs(elb.endpoint, 20, '--tolerance', '5'), run.io)).toBe(EXIT.usage);
    expect(run.stderr()).toContain('--tolerance only applies with --observed');
    expect((await verifyObserved('5m', '--tolerance', '80')).code).toBe(EXIT.usage);
    expect((await verifyObserved('10s')).code).toBe(EXIT.usage);
    expect(cloudwatch.calls).toEqual([]);
  });
});
