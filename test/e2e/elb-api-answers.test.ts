import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../lambdas/core/malformed-response.js';
import { createElbApi } from '../../lambdas/core/routers/alb/client.js';
import type { ElbApi } from '../../lambdas/core/routers/alb/elb-api.js';
import { CHECKOUT_INGRESS } from '../../sim/elbv2/checkout.js';
import { ELBV2_XMLNS, type Elbv2Sim, type IngressAlb, startElbv2Sim } from '../../sim/elbv2/index.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';

/**
 * How the SDK in package-lock (schema-based serde) reads each kind of answer, and what ElbApi
 * makes of it. The SDK turns an HTML page, an empty body, another action's answer and a result
 * without its list all into `{}` without an error, an empty list element into `[]`, and fails
 * only on text that is not XML at all (truncated, JSON) — so ElbApi checks the list is there.
 */

let sim: Elbv2Sim;
let alb: IngressAlb;
let proxy: FaultProxy;
let api: ElbApi;

beforeAll(async () => {
  sim = await startElbv2Sim({ rateLimit: false });
  alb = sim.addIngressAlb({ ...CHECKOUT_INGRESS, canaryWeight: 20, targets: { stable: 2, canary: 0 } });
  proxy = await startFaultProxy({ upstream: sim.endpoint });
  api = createElbApi({ region: 'eu-west-1', endpoint: proxy.url, maxAttempts: 1 });
});

afterAll(async () => {
  await proxy.close();
  await sim.close();
});

const health = (inner: string) =>
  `<DescribeTargetHealthResponse xmlns="${ELBV2_XMLNS}">${inner}<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeTargetHealthResponse>`;

/** DescribeTargetHealth of the canary group, answered with `body` instead of the simulator's answer. */
async function targetHealthAnswering(body: string, contentType = 'text/xml') {
  const remove = proxy.inject({ fault: { kind: 'respond', status: 200, contentType, body }, times: 1 });
  try {
    return await api.targetHealth(alb.canaryTargetGroupArn);
  } finally {
    remove();
  }
}

describe('ElbApi: an answer or not', () => {
  it('an empty list element is a genuine empty list: no registered targets', async () => {
    await expect(api.targetHealth(alb.canaryTargetGroupArn)).resolves.toEqual([]);
    await expect(
      targetHealthAnswering(
        health('<DescribeTargetHealthResult><TargetHealthDescriptions/></DescribeTargetHealthResult>'),
      ),
    ).resolves.toEqual([]);
  });

  it.each([
    [
      'the result without its list',
      health('<DescribeTargetHealthResult></DescribeTargetHealthResult>'),
      'text/xml',
      'without <TargetHealthDescriptions>',
    ],
    ['no result element', health(''), 'text/xml', 'without <TargetHealthDescriptions>'],
    [
      'an HTML page',
      '<!DOCTYPE html><html><body>Sign in</body></html>',
      'text/html',
      'HTTP 200 (text/html) without',
    ],
    ['an empty body', '', 'text/xml', 'without <TargetHealthDescriptions>'],
    [
      "another action's answer",
      `<DescribeRulesResponse xmlns="${ELBV2_XMLNS}"><DescribeRulesResult><Rules/></DescribeRulesResult></DescribeRulesResponse>`,
      'text/xml',
      'without',
    ],
    [
      'truncated XML',
      health('<DescribeTargetHealthResult><TargetHealthDescriptions><member><Target><Id>10.0.0.1'),
      'text/xml',
      'the SDK could not read',
    ],
    ['JSON', '{"TargetHealthDescriptions":[]}', 'application/json', 'the SDK could not read'],
  ])('%s is a MalformedResponse', async (_, body, contentType, wording) => {
    const error = await targetHealthAnswering(body, contentType).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as Error).message).toContain('ELBv2 DescribeTargetHealth');
    expect((error as Error).message).toContain(wording);
    expect(error).toMatchObject({ elbAction: 'DescribeTargetHealth' });
  });

  it('rules by ARN must answer for every ARN asked for', async () => {
    const asked = [alb.ruleArns[0]!, alb.listeners[0]!.defaultRuleArn];
    const onlyTheFirst = `<DescribeRulesResponse xmlns="${ELBV2_XMLNS}"><DescribeRulesResult><Rules><member><RuleArn>${asked[0]}</RuleArn></member></Rules></DescribeRulesResult></DescribeRulesResponse>`;
    const remove = proxy.inject({
      fault: { kind: 'respond', status: 200, contentType: 'text/xml', body: onlyTheFirst },
      times: 1,
    });
    await expect(api.rulesByArn(asked)).rejects.toThrow(/answered without 1 of the 2 asked for/);
    remove();
    await expect(api.rulesByArn(asked)).resolves.toHaveLength(2);
  });

  it('a listener always has its default rule: none at all is not an answer', async () => {
    const remove = proxy.inject({
      fault: { kind: 'rewrite', body: (body) => body.replace(/<Rules>[\s\S]*<\/Rules>/, '<Rules/>') },
      times: 1,
    });
    await expect(api.rulesOfListener(alb.listenerArns[0]!)).rejects.toThrow(/not even its default rule/);
    remove();
  });
});
