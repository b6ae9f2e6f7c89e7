import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  LoadBalancerNotFoundException,
  type Rule,
  RuleNotFoundException,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AlbTraffic } from '../../../lambdas/core/contracts/rollout-event.js';
import { ElbApi } from '../../../lambdas/core/routers/alb/elb-api.js';
import { ingressLoadBalancerName } from '../../../lambdas/core/routers/alb/naming.js';
import { type AlbObservationTarget, AlbRouter } from '../../../lambdas/core/routers/alb/router.js';

const ACCOUNT = '123456789012';
const arn = (kind: string, rest: string) =>
  `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:${kind}/${rest}`;
const LB_NAME = ingressLoadBalancerName('prod', 'shop', 'checkout', 'internet-facing');
const LB = arn('loadbalancer', `app/${LB_NAME}/50dc6c495c0c9188`);
const STABLE_TG = arn('targetgroup', 'k8s-shop-checkout-1111111111/aaaa');
const CANARY_TG = arn('targetgroup', 'k8s-shop-checkout-2222222222/bbbb');
const OTHER_TG = arn('targetgroup', 'k8s-shop-cart-3333333333/cccc');
const HTTP = arn('listener', `app/${LB_NAME}/50dc6c495c0c9188/http`);
const HTTPS = arn('listener', `app/${LB_NAME}/50dc6c495c0c9188/https`);
const RULE_HTTP = arn('listener-rule', `app/${LB_NAME}/50dc6c495c0c9188/http/r1`);
const RULE_HTTPS = arn('listener-rule', `app/${LB_NAME}/50dc6c495c0c9188/https/r2`);

const traffic: AlbTraffic = {
  router: 'alb',
  ingresses: [{ ingress: 'checkout' }],
  stableService: 'checkout',
  canaryService: 'checkout-canary',
  servicePort: 80,
};
const target: AlbObservationTarget = { namespace: 'shop', cluster: 'prod', traffic };

const group = (TargetGroupArn: string, TargetGroupName: string): TargetGroup => ({
  TargetGroupArn,
  TargetGroupName,
  LoadBalancerArns: [LB],
});
const weightedRule = (RuleArn: string, canary: number, stable: number, priority = '1'): Rule => ({
  RuleArn,
  Priority: priority,
  IsDefault: false,
  Conditions: [{ Field: 'path-pattern', Values: ['/*'] }],
  Actions: [
    {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: CANARY_TG, Weight: canary },
          { TargetGroupArn: STABLE_TG, Weight: stable },
        ],
      },
    },
  ],
});
const resourceTags = (service: string) => [
  { Key: 'elbv2.k8s.aws/cluster', Value: 'prod' },
  { Key: 'ingress.k8s.aws/stack', Value: 'shop/checkout' },
  { Key: 'ingress.k8s.aws/resource', Value: `shop/checkout-${service}:80` },
];

const elb = mockClient(ElasticLoadBalancingV2Client);
let router: AlbRouter;

function seedAccount(canary = 20, stable = 80) {
  elb.on(DescribeLoadBalancersCommand, { Names: [LB_NAME] }).resolves({
    LoadBalancers: [{ LoadBalancerArn: LB, LoadBalancerName: LB_NAME }],
  });
  elb.on(DescribeTargetGroupsCommand, { LoadBalancerArn: LB }).resolves({
    TargetGroups: [
      group(STABLE_TG, 'k8s-shop-checkout-1111111111'),
      group(CANARY_TG, 'k8s-shop-checkout-2222222222'),
      group(OTHER_TG, 'k8s-shop-cart-3333333333'),
    ],
  });
  // One description per ARN asked for, tagged or not, as AWS answers.
  const tagged: Record<string, ReturnType<typeof resourceTags>> = {
    [STABLE_TG]: resourceTags('checkout'),
    [CANARY_TG]: resourceTags('checkout-canary'),
  };
  elb.on(DescribeTagsCommand).callsFake(({ ResourceArns }: { ResourceArns: string[] }) => ({
    TagDescriptions: ResourceArns.map((ResourceArn) => ({ ResourceArn, Tags: tagged[ResourceArn] ?? [] })),
  }));
  elb.on(DescribeListenersCommand, { LoadBalancerArn: LB }).resolves({
    Listeners: [
      { ListenerArn: HTTP, Protocol: 'HTTP', Port: 80 },
      { ListenerArn: HTTPS, Protocol: 'HTTPS', Port: 443 },
    ],
  });
  elb.on(DescribeRulesCommand, { ListenerArn: HTTP }).resolves({
    Rules: [
      weightedRule(RULE_HTTP, canary, stable),
      {
        RuleArn: `${RULE_HTTP}-default`,
        IsDefault: true,
        Priority: 'default',
        Actions: [{ Type: 'fixed-response' }],
      },
    ],
  });
  elb
    .on(DescribeRulesCommand, { ListenerArn: HTTPS })
    .resolves({ Rules: [weightedRule(RULE_HTTPS, canary, stable)] });
  elb.on(DescribeRulesCommand, { RuleArns: [RULE_HTTP, RULE_HTTPS] }).resolves({
    Rules: [weightedRule(RULE_HTTP, canary, stable), weightedRule(RULE_HTTPS, canary, stable)],
  });
  elb.on(DescribeTargetHealthCommand, { TargetGroupArn: STABLE_TG }).resolves({
    TargetHealthDescriptions: [
      { Target: { Id: '10.0.1.1', Port: 8080 }, TargetHealth: { State: 'healthy' } },
    ],
  });
  elb.on(DescribeTargetHealthCommand, { TargetGroupArn: CANARY_TG }).resolves({
    TargetHealthDescriptions: [
      {
        Target: { Id: '10.0.2.1', Port: 8080 },
        TargetHealth: { State: 'initial', Reason: 'Elb.RegistrationInProgress' },
      },
    ],
  });
}

const callsOf = (command: { name: string }) =>
  elb.calls().filter((call) => call.args[0].constructor.name === command.name);

beforeEach(() => {
  elb.reset();
  router = new AlbRouter(new ElbApi(new ElasticLoadBalancingV2Client({ region: 'eu-west-1' })));
});

describe('ALB router: discovery by the controller-derived load balancer name', () => {
  it('observes every listener rule and both target groups', async () => {
    seedAccount();
    const observation = await router.observe(target);
    expect(observation.problems).toEqual([]);
    expect(observation.region).toBe('eu-west-1');
    expect(observation.routes).toHaveLength(2);
    expect(observation.routes.map((route) => route.description)).toEqual([
      `listener rule priority 1 on HTTP:80 of ${LB_NAME} (path-pattern /*)`,
      `listener rule priority 1 on HTTPS:443 of ${LB_NAME} (path-pattern /*)`,
    ]);
    expect(observation.routes[0]?.destinations).toEqual([
      { resource: CANARY_TG, role: 'canary', weight: 20 },
      { resource: STABLE_TG, role: 'stable', weight: 80 },
    ]);
    expect(observation.backends).toEqual([
      { resource: STABLE_TG, role: 'stable', targets: [{ id: '10.0.1.1', port: 8080, state: 'healthy' }] },
      {
        resource: CANARY_TG,
        role: 'canary',
        targets: [{ id: '10.0.2.1', port: 8080, state: 'initial', reason: 'Elb.RegistrationInProgress' }],
      },
    ]);
  });

  it('spends 3 calls per observation once discovery is cached', async () => {
    seedAccount();
    await router.observe(target);
    const first = elb.calls().length;
    expect(first).toBe(9); // LB by name, TGs of LB, tags, listeners, rules ×2, then rules by ARN + health ×2
    expect(callsOf(DescribeTagsCommand)[0]?.args[0].input).toEqual({ ResourceArns: [STABLE_TG, CANARY_TG] });
    elb.resetHistory();
    await router.observe(target);
    expect(
      elb
        .calls()
        .map((call) => call.args[0].constructor.name)
        .sort(),
    ).toEqual(['DescribeRulesCommand', 'DescribeTargetHealthCommand', 'DescribeTargetHealthCommand']);
  });

  it('tries the internal scheme when no internet-facing load balancer exists', async () => {
    const internal = ingressLoadBalancerName('prod', 'shop', 'checkout', 'internal');
    seedAccount();
    elb
      .on(DescribeLoadBalancersCommand, { Names: [LB_NAME] })
      .rejects(new LoadBalancerNotFoundException({ message: 'not found', $metadata: {} }));
    elb.on(DescribeLoadBalancersCommand, { Names: [internal] }).resolves({
      LoadBalancers: [{ LoadBalancerArn: LB, LoadBalancerName: internal }],
    });
    const observation = await router.observe(target);
    expect(observation.problems).toEqual([]);
    expect(callsOf(DescribeLoadBalancersCommand).map((call) => call.args[0].input)).toEqual([
      { Names: [LB_NAME] },
      { Names: [internal] },
    ]);
  });

  it('uses the ARNs Argo recorded in status.alb without any lookup', async () => {
    seedAccount();
    const withArns: AlbObservationTarget = {
      ...target,
      traffic: {
        ...traffic,
        ingresses: [
          {
            ingress: 'checkout',
            loadBalancerArn: LB,
            stableTargetGroupArn: STABLE_TG,
            canaryTargetGroupArn: CANARY_TG,
          },
        ],
      },
    };
    const observation = await router.observe(withArns);
    expect(observation.routes).toHaveLength(2);
    expect(callsOf(DescribeLoadBalancersCommand)).toHaveLength(0);
    expect(callsOf(DescribeTargetGroupsCommand)).toHaveLength(0);
    expect(callsOf(DescribeTagsCommand)).toHaveLength(0);
  });
});

describe('ALB router: an experiment step weighting its own target group', () => {
  const experimentRule = (RuleArn: string): Rule => ({
    ...weightedRule(RuleArn, 20, 70),
    Actions: [
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: CANARY_TG, Weight: 20 },
            { TargetGroupArn: OTHER_TG, Weight: 10 },
            { TargetGroupArn: STABLE_TG, Weight: 70 },
          ],
        },
      },
    ],
  });

  it('reads the target health of the experiment target group it carries weight to, as an experiment backend', async () => {
    seedAccount();
    elb.on(DescribeRulesCommand, { RuleArns: [RULE_HTTP, RULE_HTTPS] }).resolves({
      Rules: [experimentRule(RULE_HTTP), experimentRule(RULE_HTTPS)],
    });
    elb.on(DescribeTargetHealthCommand, { TargetGroupArn: OTHER_TG }).resolves({
      TargetHealthDescriptions: [
        {
          Target: { Id: '10.0.3.1', Port: 8080 },
          TargetHealth: { State: 'unhealthy', Reason: 'Target.Timeout' },
        },
      ],
    });
    await router.observe(target); // discovery
    elb.resetHistory();
    const observation = await router.observe(target);
    expect(observation.routes[0]?.destinations).toContainEqual({
      resource: OTHER_TG,
      role: 'unknown',
      weight: 10,
    });
    expect(observation.backends.map((backend) => [backend.role, backend.resource])).toEqual([
      ['stable', STABLE_TG],
      ['canary', CANARY_TG],
      ['experiment', OTHER_TG],
    ]);
    expect(observation.backends[2]?.targets).toEqual([
      { id: '10.0.3.1', port: 8080, state: 'unhealthy', reason: 'Target.Timeout' },
    ]);
    // One health read per weighted target group, each once, whatever the number of rules.
    expect(callsOf(DescribeTargetHealthCommand).map((call) => call.args[0].input)).toEqual([
      { TargetGroupArn: STABLE_TG },
      { TargetGroupArn: CANARY_TG },
      { TargetGroupArn: OTHER_TG },
    ]);
  });

  it('does not read a target group left at weight 0', async () => {
    seedAccount();
    const leftover = (RuleArn: string): Rule => {
      const rule = experimentRule(RuleArn);
      const groups = rule.Actions?.[0]?.ForwardConfig?.TargetGroups ?? [];
      return {
        ...rule,
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: groups.map((tg) => (tg.TargetGroupArn === OTHER_TG ? { ...tg, Weight: 0 } : tg)),
            },
          },
        ],
      };
    };
    elb.on(DescribeRulesCommand, { RuleArns: [RULE_HTTP, RULE_HTTPS] }).resolves({
      Rules: [leftover(RULE_HTTP), leftover(RULE_HTTPS)],
    });
    const observation = await router.observe(target);
    expect(observation.backends.map((backend) => backend.role)).toEqual(['stable', 'canary']);
  });
});

describe('ALB router: routes first, target health when asked', () => {
  it('reads only DescribeRules when the caller needs no target health, and marks the observation routes-only', async () => {
    seedAccount();
    await router.observe(target);
    elb.resetHistory();
    const asked: number[] = [];
    const observation = await router.observe(target, undefined, {
      needsTargetHealth: (routesOnly) => {
        asked.push(routesOnly.routes.length);
        return false;
      },
    });
    expect(asked).toEqual([2]);
    expect(elb.calls().map((call) => call.args[0].constructor.name)).toEqual(['DescribeRulesCommand']);
    expect(observation.routesOnly).toBe(true);
    expect(observation.backends).toEqual([]);
    expect(observation.routes[0]?.destinations.map((destination) => destination.weight)).toEqual([20, 80]);
  });

  it('reads target health after the rules when the caller asks for it: the same 3 calls as a full look', async () => {
    seedAccount();
    await router.observe(target);
    elb.resetHistory();
    const observation = await router.observe(target, undefined, { needsTargetHealth: async () => true });
    expect(elb.calls().map((call) => call.args[0].constructor.name)).toEqual([
      'DescribeRulesCommand',
      'DescribeTargetHealthCommand',
      'DescribeTargetHealthCommand',
    ]);
    expect(observation.routesOnly).toBeUndefined();
    expect(observation.backends.map((backend) => backend.resource)).toEqual([STABLE_TG, CANARY_TG]);
  });
});

describe('ALB router: discovery without a cluster name', () => {
  it('pages target groups, filters by name and tags at most 20 ARNs per DescribeTags call', async () => {
    seedAccount();
    const lookalikes = Array.from({ length: 43 }, (_, i) =>
      group(
        arn('targetgroup', `k8s-shop-checkout-${String(i).padStart(10, '0')}/x${i}`),
        `k8s-shop-checkout-${i}`,
      ),
    );
    elb.on(DescribeTargetGroupsCommand, { Marker: undefined, PageSize: 400 }).resolves({
      TargetGroups: [...lookalikes.slice(0, 30), group(OTHER_TG, 'k8s-shop-cart-3333333333')],
      NextMarker: 'page-2',
    });
    elb.on(DescribeTargetGroupsCommand, { Marker: 'page-2', PageSize: 400 }).resolves({
      TargetGroups: [
        ...lookalikes.slice(30),
        group(STABLE_TG, 'k8s-shop-checkout-1'),
        group(CANARY_TG, 'k8s-shop-checkout-2'),
      ],
    });

    const observation = await router.observe({ ...target, cluster: undefined });

    expect(observation.problems).toEqual([]);
    expect(observation.routes).toHaveLength(2);
    expect(callsOf(DescribeLoadBalancersCommand)).toHaveLength(0);
    expect(callsOf(DescribeTargetGroupsCommand)).toHaveLength(2);
    const tagBatches = callsOf(DescribeTagsCommand).map(
      (call) => (call.args[0].input as { ResourceArns: string[] }).ResourceArns,
    );
    expect(tagBatches.map((batch) => batch.length)).toEqual([20, 20, 5]);
    expect(tagBatches.flat()).not.toContain(OTHER_TG);
  });

  it('says which region it searched when nothing is there', async () => {
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
    const observation = await router.observe({ ...target, cluster: undefined });
    expect(observation.routes).toEqual([]);
    expect(observation.problems).toMatchObject([
      { code: 'ResourceNotFound', resource: 'ingress/shop/checkout' },
    ]);
    expect(observation.problems[0]?.message).toContain('eu-west-1');
  });
});

describe('ALB router: failures', () => {
  it('re-discovers once when a cached rule is gone', async () => {
    seedAccount();
    await router.observe(target);
    elb
      .on(DescribeRulesCommand, { RuleArns: [RULE_HTTP, RULE_HTTPS] })
      .rejectsOnce(new RuleNotFoundException({ message: 'One or more rules not found', $metadata: {} }))
      .resolves({ Rules: [weightedRule(RULE_HTTP, 20, 80), weightedRule(RULE_HTTPS, 20, 80)] });
    elb.resetHistory();
    const observation = await router.observe(target);
    expect(observation.problems).toEqual([]);
    expect(observation.routes).toHaveLength(2);
    expect(callsOf(DescribeLoadBalancersCommand)).toHaveLength(1);
  });

  it('names the IAM action that is missing', async () => {
    seedAccount();
    elb.on(DescribeTargetHealthCommand).rejects(
      new ElasticLoadBalancingV2ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/verify/fn is not authorized to perform: elasticloadbalancing:DescribeTargetHealth`,
      }),
    );
    const observation = await router.observe(target);
    expect(observation.problems).toMatchObject([
      { code: 'AccessDenied', missingPermission: 'elasticloadbalancing:DescribeTargetHealth' },
    ]);
  });

  it('names the action from the failing call when the message does not', async () => {
    elb.on(DescribeLoadBalancersCommand).rejects(
      new ElasticLoadBalancingV2ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'Access denied',
      }),
    );
    const observation = await router.observe(target);
    expect(observation.problems[0]).toMatchObject({
      code: 'AccessDenied',
      missingPermission: 'elasticloadbalancing:DescribeLoadBalancers',
    });
  });

  it('reports throttling as Throttled, not as a mismatch', async () => {
    seedAccount();
    elb.on(DescribeRulesCommand, { RuleArns: [RULE_HTTP, RULE_HTTPS] }).rejects(
      new ElasticLoadBalancingV2ServiceException({
        name: 'Throttling',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
    );
    const observation = await router.observe(target);
    expect(observation.routes).toEqual([]);
    expect(observation.problems).toMatchObject([{ code: 'Throttled' }]);
  });

  it('observes only the rules that split traffic between both sides, not host or header routes to one', async () => {
    seedAccount();
    elb.on(DescribeRulesCommand, { ListenerArn: HTTP }).resolves({
      Rules: [
        weightedRule(RULE_HTTP, 20, 80),
        // rootService pattern: hosts that reach the stable or the canary Service alone.
        {
          RuleArn: `${RULE_HTTP}-stable-host`,
          Priority: '2',
          Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['stable.example.com'] } }],
          Actions: [{ Type: 'forward', TargetGroupArn: STABLE_TG }],
        },
        {
          RuleArn: `${RULE_HTTP}-canary-host`,
          Priority: '3',
          Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['canary.example.com'] } }],
          Actions: [
            {
              Type: 'forward',
              ForwardConfig: { TargetGroups: [{ TargetGroupArn: CANARY_TG, Weight: 100 }] },
            },
          ],
        },
        // A managed header route (setHeaderRoute): matching requests all go to the canary.
        {
          RuleArn: `${RULE_HTTP}-header`,
          Priority: '4',
          Conditions: [
            { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Canary', Values: ['yes'] } },
          ],
          Actions: [
            {
              Type: 'forward',
              ForwardConfig: { TargetGroups: [{ TargetGroupArn: CANARY_TG, Weight: 100 }] },
            },
          ],
        },
      ],
    });
    const observation = await router.observe(target);
    expect(observation.routes.map((route) => route.resource)).toEqual([RULE_HTTP, RULE_HTTPS]);
  });

  it('reports a load balancer with no rule for the rollout and does not cache it', async () => {
    seedAccount();
    const defaultOnly = (listener: string) => ({
      Rules: [
        { RuleArn: `${listener}/default`, IsDefault: true, Actions: [{ Type: 'fixed-response' as const }] },
      ],
    });
    elb.on(DescribeRulesCommand, { ListenerArn: HTTP }).resolves(defaultOnly(HTTP));
    elb.on(DescribeRulesCommand, { ListenerArn: HTTPS }).resolves(defaultOnly(HTTPS));
    const first = await router.observe(target);
    expect(first.problems).toMatchObject([{ code: 'NoRuleForwardsToRollout', resource: LB }]);
    elb.resetHistory();
    await router.observe(target);
    expect(callsOf(DescribeListenersCommand)).toHaveLength(1);
  });

  it('a listener answered without any rule (not even its default) is a malformed answer, not "no rule forwards"', async () => {
    seedAccount();
    elb.on(DescribeRulesCommand, { ListenerArn: HTTPS }).resolves({ Rules: [] });
    const observation = await router.observe(target);
    expect(observation.routes).toEqual([]);
    expect(observation.problems).toMatchObject([
      { code: 'MalformedResponse', observed: expect.stringContaining('not even its default rule') },
    ]);
  });

  it.each([
    [
      'DescribeRules by ARN without one of the rules',
      DescribeRulesCommand,
      { RuleArns: [RULE_HTTP, RULE_HTTPS] },
      { Rules: [weightedRule(RULE_HTTP, 20, 80)] },
    ],
    [
      'DescribeLoadBalancers by name without the load balancer',
      DescribeLoadBalancersCommand,
      { Names: [LB_NAME] },
      { LoadBalancers: [] },
    ],
    ['DescribeTags without one of the target groups', DescribeTagsCommand, {}, { TagDescriptions: [] }],
  ] as const)(
    '%s is a malformed answer, never a finding about the rollout',
    async (_, command, input, output) => {
      seedAccount();
      elb.on(command as typeof DescribeRulesCommand, input as never).resolves(output as never);
      const observation = await router.observe(target);
      expect(observation.problems).toMatchObject([{ code: 'MalformedResponse' }]);
      expect(observation.routes).toEqual([]);
    },
  );
});

describe('ALB router: several ingresses', () => {
  it('observes the rules of every ingress of the rollout', async () => {
    seedAccount();
    const otherName = ingressLoadBalancerName('prod', 'shop', 'checkout-internal', 'internet-facing');
    const otherLb = arn('loadbalancer', `app/${otherName}/1`);
    const otherStable = arn('targetgroup', 'k8s-shop-checkout-4444444444/dddd');
    const otherCanary = arn('targetgroup', 'k8s-shop-checkout-5555555555/eeee');
    const otherRule = arn('listener-rule', `app/${otherName}/1/l/r`);
    // Argo writes the same action annotation on every ingress of the rollout.
    const otherWeighted: Rule = {
      RuleArn: otherRule,
      Priority: '3',
      Actions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: otherCanary, Weight: 20 },
              { TargetGroupArn: otherStable, Weight: 80 },
            ],
          },
        },
      ],
    };
    elb.on(DescribeLoadBalancersCommand, { Names: [otherName] }).resolves({
      LoadBalancers: [{ LoadBalancerArn: otherLb, LoadBalancerName: otherName }],
    });
    elb.on(DescribeTargetGroupsCommand, { LoadBalancerArn: otherLb }).resolves({
      TargetGroups: [group(otherStable, 'k8s-shop-checkout-4'), group(otherCanary, 'k8s-shop-checkout-5')],
    });
    elb.on(DescribeTagsCommand, { ResourceArns: [otherStable, otherCanary] }).resolves({
      TagDescriptions: [
        {
          ResourceArn: otherStable,
          Tags: [{ Key: 'ingress.k8s.aws/resource', Value: 'shop/checkout-internal-checkout:80' }],
        },
        {
          ResourceArn: otherCanary,
          Tags: [{ Key: 'ingress.k8s.aws/resource', Value: 'shop/checkout-internal-checkout-canary:80' }],
        },
      ],
    });
    elb.on(DescribeListenersCommand, { LoadBalancerArn: otherLb }).resolves({
      Listeners: [{ ListenerArn: `${otherLb}/l`, Protocol: 'HTTP', Port: 80 }],
    });
    elb.on(DescribeRulesCommand, { ListenerArn: `${otherLb}/l` }).resolves({
      Rules: [
        otherWeighted,
        // A host route to the stable Service alone (Argo's rootService pattern): not the split.
        {
          RuleArn: `${otherRule}-stable-host`,
          Priority: '4',
          Actions: [{ Type: 'forward', TargetGroupArn: otherStable }],
        },
      ],
    });
    elb.on(DescribeRulesCommand, { RuleArns: [RULE_HTTP, RULE_HTTPS, otherRule] }).resolves({
      Rules: [weightedRule(RULE_HTTP, 20, 80), weightedRule(RULE_HTTPS, 20, 80), otherWeighted],
    });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });

    const observation = await router.observe({
      ...target,
      traffic: { ...traffic, ingresses: [{ ingress: 'checkout' }, { ingress: 'checkout-internal' }] },
    });

    expect(observation.problems).toEqual([]);
    expect(observation.routes.map((route) => route.resource)).toEqual([RULE_HTTP, RULE_HTTPS, otherRule]);
    expect(observation.routes[2]?.destinations).toEqual([
      { resource: otherCanary, role: 'canary', weight: 20 },
      { resource: otherStable, role: 'stable', weight: 80 },
    ]);
    expect(observation.backends.map((backend) => backend.resource).sort()).toEqual(
      [STABLE_TG, CANARY_TG, otherStable, otherCanary].sort(),
    );
  });
});
