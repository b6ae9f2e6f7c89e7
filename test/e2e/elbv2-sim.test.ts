import { createHash } from 'node:crypto';
import {
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  paginateDescribeLoadBalancers,
  RegisterTargetsCommand,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createManualClock,
  type Elbv2Sim,
  type IngressAlb,
  type ManualClock,
  startElbv2Sim,
} from '../../sim/elbv2/index.js';

function clientFor(sim: Elbv2Sim): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({
    region: 'eu-west-1',
    endpoint: sim.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

interface Failure {
  name: string;
  message: string;
  status: number | undefined;
}

/** What the SDK surfaces of a failed call: `error.name` (the exception class or the wire Code), message, HTTP status. */
async function failure(call: Promise<unknown>): Promise<Failure> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
    return { name: error.name, message: error.message, status: metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

const sha256 = (...parts: string[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

const health = (descriptions: TargetHealthDescription[] | undefined) =>
  (descriptions ?? []).map((d) => ({
    id: d.Target?.Id,
    state: d.TargetHealth?.State,
    reason: d.TargetHealth?.Reason,
    description: d.TargetHealth?.Description,
  }));

describe('ELBv2 simulator, driven by the real SDK v3 client', () => {
  let clock: ManualClock;
  let sim: Elbv2Sim;
  let client: ElasticLoadBalancingV2Client;
  let alb: IngressAlb;

  beforeAll(async () => {
    clock = createManualClock();
    sim = await startElbv2Sim({ now: clock.now, rateLimit: false });
    alb = sim.addIngressAlb({
      cluster: 'prod',
      namespace: 'shop',
      ingress: 'web',
      stableService: 'web-stable',
      canaryService: 'web-canary',
      servicePort: 80,
      listeners: ['HTTP:80', 'HTTPS:443'],
      canaryWeight: 20,
      targets: { stable: 2, canary: 1 },
    });
    client = clientFor(sim);
  });

  afterAll(async () => {
    client.destroy();
    await sim.close();
  });

  describe('DescribeLoadBalancers', () => {
    it('finds the Ingress load balancer by the name the controller derives, and by ARN', async () => {
      const expectedName = `k8s-shop-web-${sha256('prod', 'shop/web', 'internet-facing').slice(0, 10)}`;
      expect(alb.loadBalancerName).toBe(expectedName);

      const byName = await client.send(new DescribeLoadBalancersCommand({ Names: [expectedName] }));
      const lb = byName.LoadBalancers?.[0];
      expect(byName.LoadBalancers).toHaveLength(1);
      expect(byName.NextMarker).toBeUndefined();
      expect(lb).toMatchObject({
        LoadBalancerName: expectedName,
        Scheme: 'internet-facing',
        Type: 'application',
        State: { Code: 'active' },
        IpAddressType: 'ipv4',
        CanonicalHostedZoneId: 'Z32O12XQLNTSW2',
      });
      expect(lb?.LoadBalancerArn).toMatch(
        new RegExp(
          `^arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/${expectedName}/[0-9a-f]{16}$`,
        ),
      );
      expect(lb?.DNSName).toMatch(new RegExp(`^${expectedName}-\\d+\\.eu-west-1\\.elb\\.amazonaws\\.com$`));
      expect(lb?.DNSName).toBe(alb.dnsName);
      expect(lb?.CreatedTime).toBeInstanceOf(Date);
      expect(lb?.AvailabilityZones?.map((az) => az.ZoneName)).toEqual([
        'eu-west-1a',
        'eu-west-1b',
        'eu-west-1c',
      ]);

      const byArn = await client.send(
        new DescribeLoadBalancersCommand({ LoadBalancerArns: [alb.loadBalancerArn] }),
      );
      expect(byArn.LoadBalancers?.[0]?.LoadBalancerName).toBe(expectedName);
    });

    it('gives internal load balancers an internal- DNS name', async () => {
      const internal = sim.addIngressAlb({
        cluster: 'prod',
        namespace: 'shop',
        ingress: 'admin',
        stableService: 'admin-stable',
        canaryService: 'admin-canary',
        servicePort: 8080,
        scheme: 'internal',
      });
      const out = await client.send(new DescribeLoadBalancersCommand({ Names: [internal.loadBalancerName] }));
      expect(out.LoadBalancers?.[0]?.Scheme).toBe('internal');
      expect(out.LoadBalancers?.[0]?.DNSName).toMatch(
        /^internal-k8s-shop-admin-[0-9a-f]{10}-\d+\.eu-west-1\.elb\.amazonaws\.com$/,
      );
    });

    it('reports an unknown name as LoadBalancerNotFoundException', async () => {
      const error = await failure(
        client.send(new DescribeLoadBalancersCommand({ Names: ['k8s-nope-nope-0000000000'] })),
      );
      expect(error).toEqual({
        name: 'LoadBalancerNotFoundException',
        message: "Load balancers '[k8s-nope-nope-0000000000]' not found",
        status: 400,
      });
    });

    it('pages 500 load balancers with Marker/NextMarker (at most 400 a page)', async () => {
      const big = await startElbv2Sim({ rateLimit: false });
      const bigClient = clientFor(big);
      try {
        const arns = big.addUnrelatedLoadBalancers(500);
        expect(new Set(arns).size).toBe(500);

        const pageSizes: number[] = [];
        const seen: string[] = [];
        for await (const page of paginateDescribeLoadBalancers({ client: bigClient }, {})) {
          pageSizes.push(page.LoadBalancers?.length ?? 0);
          for (const lb of page.LoadBalancers ?? []) seen.push(lb.LoadBalancerArn ?? '');
        }
        expect(pageSizes).toEqual([400, 100]);
        expect(seen).toEqual(arns);

        const small = await bigClient.send(new DescribeLoadBalancersCommand({ PageSize: 3 }));
        expect(small.LoadBalancers).toHaveLength(3);
        const next = await bigClient.send(
          new DescribeLoadBalancersCommand({ PageSize: 3, Marker: small.NextMarker }),
        );
        expect(next.LoadBalancers?.[0]?.LoadBalancerArn).toBe(arns[3]);
        expect(big.calls()).toEqual({ DescribeLoadBalancers: 4 });

        const tooBig = await failure(bigClient.send(new DescribeLoadBalancersCommand({ PageSize: 401 })));
        expect(tooBig.name).toBe('ValidationError');
        expect(tooBig.message).toContain('Member must have value less than or equal to 400');
        const badMarker = await failure(
          bigClient.send(new DescribeLoadBalancersCommand({ Marker: 'bm9wZQ==' })),
        );
        expect(badMarker.name).toBe('ValidationError');
      } finally {
        bigClient.destroy();
        await big.close();
      }
    });
  });

  describe('DescribeListeners', () => {
    it('lists the HTTP and HTTPS listeners of a load balancer and describes them by ARN', async () => {
      const out = await client.send(new DescribeListenersCommand({ LoadBalancerArn: alb.loadBalancerArn }));
      expect(out.Listeners?.map((l) => [l.Protocol, l.Port])).toEqual([
        ['HTTP', 80],
        ['HTTPS', 443],
      ]);
      const https = out.Listeners?.[1];
      expect(https?.SslPolicy).toBe('ELBSecurityPolicy-2016-08');
      expect(https?.Certificates?.[0]?.CertificateArn).toMatch(
        /^arn:aws:acm:eu-west-1:123456789012:certificate\//,
      );
      expect(https?.DefaultActions).toEqual([
        {
          Type: 'fixed-response',
          Order: 1,
          FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain' },
        },
      ]);
      expect(out.Listeners?.[0]?.ListenerArn).toMatch(
        /^arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener\/app\/k8s-shop-web-[0-9a-f]{10}\/[0-9a-f]{16}\/[0-9a-f]{16}$/,
      );

      const byArn = await client.send(
        new DescribeListenersCommand({ ListenerArns: [alb.listenerArns[1] ?? ''] }),
      );
      expect(byArn.Listeners?.map((l) => l.Port)).toEqual([443]);
    });

    it('reports unknown listeners and load balancers with the exceptions the API reference names', async () => {
      const listener = `${alb.listenerArns[0]?.slice(0, -16)}0000000000000000`;
      expect(
        await failure(client.send(new DescribeListenersCommand({ ListenerArns: [listener] }))),
      ).toMatchObject({
        name: 'ListenerNotFoundException',
        status: 400,
      });
      const lb = `${alb.loadBalancerArn.slice(0, -16)}0000000000000000`;
      expect(await failure(client.send(new DescribeListenersCommand({ LoadBalancerArn: lb })))).toMatchObject(
        {
          name: 'LoadBalancerNotFoundException',
        },
      );
      expect(await failure(client.send(new DescribeListenersCommand({})))).toMatchObject({
        name: 'ValidationError',
      });
    });
  });

  describe('DescribeRules', () => {
    it('shows the weighted forward rule and the default rule of a listener', async () => {
      const out = await client.send(new DescribeRulesCommand({ ListenerArn: alb.listeners[0]?.listenerArn }));
      expect(out.Rules?.map((r) => [r.Priority, r.IsDefault])).toEqual([
        ['1', false],
        ['default', true],
      ]);
      const rule = out.Rules?.[0];
      expect(rule?.RuleArn).toBe(alb.listeners[0]?.ruleArn);
      expect(rule?.Conditions).toEqual([
        { Field: 'path-pattern', Values: ['/*'], PathPatternConfig: { Values: ['/*'] } },
      ]);
      expect(rule?.Actions).toEqual([
        {
          Type: 'forward',
          Order: 1,
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: alb.stableTargetGroupArn, Weight: 80 },
              { TargetGroupArn: alb.canaryTargetGroupArn, Weight: 20 },
            ],
            TargetGroupStickinessConfig: { Enabled: false },
          },
        },
      ]);
      expect(out.Rules?.[1]?.Conditions).toEqual([]);
    });

    it('describes rules by ARN across listeners, pages them, and reports RuleNotFoundException', async () => {
      const byArn = await client.send(new DescribeRulesCommand({ RuleArns: alb.ruleArns }));
      expect(byArn.Rules?.map((r) => r.RuleArn)).toEqual(alb.ruleArns);

      const first = await client.send(
        new DescribeRulesCommand({ ListenerArn: alb.listenerArns[0], PageSize: 1 }),
      );
      expect(first.Rules).toHaveLength(1);
      expect(first.NextMarker).toBeTypeOf('string');
      const second = await client.send(
        new DescribeRulesCommand({ ListenerArn: alb.listenerArns[0], PageSize: 1, Marker: first.NextMarker }),
      );
      expect(second.Rules?.[0]?.IsDefault).toBe(true);
      expect(second.NextMarker).toBeUndefined();

      const missing = `${alb.ruleArns[0]?.slice(0, -16)}ffffffffffffffff`;
      expect(await failure(client.send(new DescribeRulesCommand({ RuleArns: [missing] })))).toEqual({
        name: 'RuleNotFoundException',
        message: `Rules '[${missing}]' not found`,
        status: 400,
      });
    });

    it('reports a deleted rule as RuleNotFoundException; a recreated one has a new ARN', async () => {
      const group = sim.addIngressAlb({
        cluster: 'prod',
        namespace: 'shop',
        ingress: 'cart',
        group: 'shop-public',
        stableService: 'cart-stable',
        canaryService: 'cart-canary',
        servicePort: 80,
      });
      expect(group.loadBalancerName).toBe(
        `k8s-shoppublic-${sha256('prod', 'shop-public', 'internet-facing').slice(0, 10)}`,
      );
      expect(group.stackTag).toBe('shop-public');
      const old = group.ruleArns[0] ?? '';
      sim.deleteRule(old);
      expect(await failure(client.send(new DescribeRulesCommand({ RuleArns: [old] })))).toMatchObject({
        name: 'RuleNotFoundException',
      });
      const recreated = sim.addRule(group.listenerArns[0] ?? '', {
        priority: 1,
        conditions: [{ field: 'path-pattern', values: ['/*'] }],
        actions: [
          {
            type: 'forward',
            targetGroups: [
              { targetGroupArn: group.stableTargetGroupArn, weight: 100 },
              { targetGroupArn: group.canaryTargetGroupArn, weight: 0 },
            ],
          },
        ],
      });
      expect(recreated).not.toBe(old);
      const out = await client.send(new DescribeRulesCommand({ ListenerArn: group.listenerArns[0] }));
      expect(out.Rules?.map((r) => r.RuleArn)).toEqual([recreated, group.listeners[0]?.defaultRuleArn]);
    });

    it('shows host-header conditions in both the legacy Values and HostHeaderConfig', async () => {
      const hosted = sim.addIngressAlb({
        cluster: 'prod',
        namespace: 'shop',
        ingress: 'api',
        stableService: 'api-stable',
        canaryService: 'api-canary',
        servicePort: 80,
        host: 'api.example.com',
        stickiness: { enabled: true, durationSeconds: 300 },
      });
      const out = await client.send(new DescribeRulesCommand({ RuleArns: hosted.ruleArns }));
      expect(out.Rules?.[0]?.Conditions?.[0]).toEqual({
        Field: 'host-header',
        Values: ['api.example.com'],
        HostHeaderConfig: { Values: ['api.example.com'] },
      });
      expect(out.Rules?.[0]?.Actions?.[0]?.ForwardConfig?.TargetGroupStickinessConfig).toEqual({
        Enabled: true,
        DurationSeconds: 300,
      });
    });
  });

  describe('DescribeTargetGroups', () => {
    it('returns the groups a load balancer forwards to, with LoadBalancerArns and health check settings', async () => {
      const out = await client.send(
        new DescribeTargetGroupsCommand({ LoadBalancerArn: alb.loadBalancerArn }),
      );
      expect(out.TargetGroups?.map((tg) => tg.TargetGroupArn)).toEqual([
        alb.stableTargetGroupArn,
        alb.canaryTargetGroupArn,
      ]);
      expect(out.TargetGroups?.[1]).toMatchObject({
        TargetGroupName: alb.canaryTargetGroupName,
        Protocol: 'HTTP',
        Port: 8080,
        TargetType: 'ip',
        HealthCheckProtocol: 'HTTP',
        HealthCheckPort: 'traffic-port',
        HealthCheckPath: '/',
        HealthCheckIntervalSeconds: 15,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
        Matcher: { HttpCode: '200' },
        LoadBalancerArns: [alb.loadBalancerArn],
      });
      expect(alb.canaryTargetGroupName).toMatch(/^k8s-shop-webcanar-[0-9a-f]{10}$/);

      const byName = await client.send(
        new DescribeTargetGroupsCommand({ Names: [alb.stableTargetGroupName] }),
      );
      expect(byName.TargetGroups?.[0]?.TargetGroupArn).toBe(alb.stableTargetGroupArn);
      const byArn = await client.send(
        new DescribeTargetGroupsCommand({ TargetGroupArns: [alb.canaryTargetGroupArn] }),
      );
      expect(byArn.TargetGroups?.[0]?.TargetGroupName).toBe(alb.canaryTargetGroupName);
    });

    it('reports unknown groups as TargetGroupNotFoundException', async () => {
      expect(
        await failure(
          client.send(new DescribeTargetGroupsCommand({ Names: ['k8s-shop-nothere-0000000000'] })),
        ),
      ).toMatchObject({ name: 'TargetGroupNotFoundException', status: 400 });
    });
  });

  describe('DescribeTags', () => {
    it('returns the tags the load balancer controller writes for an Ingress', async () => {
      const out = await client.send(
        new DescribeTagsCommand({
          ResourceArns: [
            alb.loadBalancerArn,
            alb.stableTargetGroupArn,
            alb.canaryTargetGroupArn,
            alb.ruleArns[0] ?? '',
          ],
        }),
      );
      const tags = (out.TagDescriptions ?? []).map((d) =>
        Object.fromEntries((d.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      );
      const stack = { 'elbv2.k8s.aws/cluster': 'prod', 'ingress.k8s.aws/stack': 'shop/web' };
      expect(out.TagDescriptions?.map((d) => d.ResourceArn)).toEqual([
        alb.loadBalancerArn,
        alb.stableTargetGroupArn,
        alb.canaryTargetGroupArn,
        alb.ruleArns[0],
      ]);
      expect(tags).toEqual([
        { ...stack, 'ingress.k8s.aws/resource': 'LoadBalancer' },
        { ...stack, 'ingress.k8s.aws/resource': 'shop/web-web-stable:80' },
        { ...stack, 'ingress.k8s.aws/resource': 'shop/web-web-canary:80' },
        { ...stack, 'ingress.k8s.aws/resource': '80:1' },
      ]);
    });

    it('accepts at most 20 ARNs and at least one', async () => {
      const arns = Array.from({ length: 21 }, () => alb.loadBalancerArn);
      const tooMany = await failure(client.send(new DescribeTagsCommand({ ResourceArns: arns })));
      expect(tooMany).toMatchObject({ name: 'ValidationError', status: 400 });
      expect(tooMany.message).toMatch(
        /^1 validation error detected: Value '\[.*\]' at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to 20$/,
      );
      const twenty = await client.send(new DescribeTagsCommand({ ResourceArns: arns.slice(0, 20) }));
      expect(twenty.TagDescriptions).toHaveLength(20);
      expect(await failure(client.send(new DescribeTagsCommand({ ResourceArns: [] })))).toMatchObject({
        name: 'ValidationError',
      });
      const gone = `${alb.canaryTargetGroupArn.slice(0, -16)}0000000000000000`;
      expect(await failure(client.send(new DescribeTagsCommand({ ResourceArns: [gone] })))).toMatchObject({
        name: 'TargetGroupNotFoundException',
      });
    });

    it('escapes markup in values (the XML builder)', async () => {
      const value = `<b>"a" & 'b'</b> ]]>`;
      sim.tagResource(alb.loadBalancerArn, { note: value });
      const out = await client.send(new DescribeTagsCommand({ ResourceArns: [alb.loadBalancerArn] }));
      expect(out.TagDescriptions?.[0]?.Tags?.find((t) => t.Key === 'note')?.Value).toBe(value);
    });
  });

  describe('DescribeTargetHealth and the health-check clock', () => {
    it('reports the seeded targets healthy, with port, zone and health check port', async () => {
      const out = await client.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: alb.stableTargetGroupArn }),
      );
      expect(out.TargetHealthDescriptions).toHaveLength(2);
      const first = out.TargetHealthDescriptions?.[0];
      expect(first?.Target?.Id).toBe(alb.stableTargetIds[0]);
      expect(first?.Target?.Port).toBe(8080);
      expect(first?.Target?.AvailabilityZone).toMatch(/^eu-west-1[abc]$/);
      expect(first?.HealthCheckPort).toBe('8080');
      expect(first?.TargetHealth).toEqual({ State: 'healthy' });
    });

    it('answers for named targets, unregistered ones as unused / Target.NotRegistered', async () => {
      const out = await client.send(
        new DescribeTargetHealthCommand({
          TargetGroupArn: alb.canaryTargetGroupArn,
          Targets: [{ Id: alb.canaryTargetIds[0] ?? '' }, { Id: '10.9.9.9', Port: 8080 }],
        }),
      );
      expect(health(out.TargetHealthDescriptions)).toEqual([
        { id: alb.canaryTargetIds[0], state: 'healthy', reason: undefined, description: undefined },
        {
          id: '10.9.9.9',
          state: 'unused',
          reason: 'Target.NotRegistered',
          description: 'Target is not registered to the target group',
        },
      ]);
      const gone = `${alb.canaryTargetGroupArn.slice(0, -16)}0000000000000000`;
      expect(
        await failure(client.send(new DescribeTargetHealthCommand({ TargetGroupArn: gone }))),
      ).toMatchObject({
        name: 'TargetGroupNotFoundException',
        status: 400,
      });
    });

    it('moves a registered target from initial to healthy after the healthy threshold of checks', async () => {
      const tg = alb.canaryTargetGroupArn;
      await client.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.200.7' }] }));
      const look = async () =>
        health(
          (
            await client.send(
              new DescribeTargetHealthCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.200.7' }] }),
            )
          ).TargetHealthDescriptions,
        )[0];
      expect(await look()).toMatchObject({ state: 'initial', reason: 'Elb.RegistrationInProgress' });
      clock.advance(10); // one check (interval 10 ms), threshold 2
      expect(await look()).toMatchObject({ state: 'initial', reason: 'Elb.InitialHealthChecking' });
      clock.advance(10);
      expect(await look()).toEqual({
        id: '10.0.200.7',
        state: 'healthy',
        reason: undefined,
        description: undefined,
      });

      // failing checks: unhealthy after the unhealthy threshold, healthy again after passing ones
      sim.failHealthChecks(tg, '10.0.200.7', 'Target.ResponseCodeMismatch', '503');
      clock.advance(10);
      expect((await look())?.state).toBe('healthy');
      clock.advance(10);
      expect(await look()).toEqual({
        id: '10.0.200.7',
        state: 'unhealthy',
        reason: 'Target.ResponseCodeMismatch',
        description: 'Health checks failed with these codes: [503]',
      });
      sim.passHealthChecks(tg, '10.0.200.7');
      clock.advance(10);
      expect((await look())?.state).toBe('unhealthy');
      clock.advance(10);
      expect((await look())?.state).toBe('healthy');

      // deregistration: draining for the deregistration delay (50 ms), then gone
      await client.send(
        new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.200.7' }] }),
      );
      expect(await look()).toMatchObject({ state: 'draining', reason: 'Target.DeregistrationInProgress' });
      clock.advance(50);
      expect(await look()).toMatchObject({ state: 'unused', reason: 'Target.NotRegistered' });
      const all = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
      expect(all.TargetHealthDescriptions?.map((d) => d.Target?.Id)).toEqual(alb.canaryTargetIds);
    });

    it('sets health directly and registers healthy targets instantly through the control API', async () => {
      const tg = alb.stableTargetGroupArn;
      const [extra] = sim.registerHealthyTargets(tg, 1);
      sim.setTargetHealth(tg, alb.stableTargetIds[1] ?? '', 'unhealthy');
      const out = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
      expect(health(out.TargetHealthDescriptions)).toEqual([
        { id: alb.stableTargetIds[0], state: 'healthy', reason: undefined, description: undefined },
        {
          id: alb.stableTargetIds[1],
          state: 'unhealthy',
          reason: 'Target.FailedHealthChecks',
          description: 'Health checks failed',
        },
        { id: extra, state: 'healthy', reason: undefined, description: undefined },
      ]);
      sim.setTargetHealth(tg, alb.stableTargetIds[1] ?? '', 'healthy');
      sim.deregisterTargets(tg, [{ id: extra ?? '' }]);
      clock.advance(50);
      const after = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
      expect(health(after.TargetHealthDescriptions).map((t) => t.state)).toEqual(['healthy', 'healthy']);
    });

    it('reports targets of a group no rule forwards to as unused / Target.NotInUse, until a rule does', async () => {
      const orphan = sim.addTargetGroup({ name: 'orphan-targets', port: 80, targetType: 'instance' });
      sim.registerHealthyTargets(orphan, ['i-0123456789abcdef0']);
      const look = async () =>
        health(
          (await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: orphan })))
            .TargetHealthDescriptions,
        );
      expect(await look()).toEqual([
        {
          id: 'i-0123456789abcdef0',
          state: 'unused',
          reason: 'Target.NotInUse',
          description: 'Target group is not configured to receive traffic from the load balancer',
        },
      ]);
      const tgs = await client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [orphan] }));
      expect(tgs.TargetGroups?.[0]?.LoadBalancerArns).toEqual([]);

      // a forward rule now sends it traffic: health checks start over
      const lb = sim.addLoadBalancer({ name: 'orphan-lb' });
      const listener = sim.addListener(lb, { protocol: 'HTTP', port: 80 });
      const rule = sim.addRule(listener, {
        priority: 5,
        conditions: [{ field: 'path-pattern', values: ['/x'] }],
        actions: [{ type: 'fixed-response', statusCode: '200' }],
      });
      await client.send(
        new ModifyRuleCommand({ RuleArn: rule, Actions: [{ Type: 'forward', TargetGroupArn: orphan }] }),
      );
      expect((await look())[0]).toMatchObject({ state: 'initial', reason: 'Elb.RegistrationInProgress' });
      clock.advance(50); // default health check settings: 5 healthy checks
      expect((await look())[0]?.state).toBe('healthy');
      const used = await client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [orphan] }));
      expect(used.TargetGroups?.[0]?.LoadBalancerArns).toEqual([lb]);
    });
  });

  describe('ModifyRule', () => {
    it('answers with the new actions at once; Describe* shows them after the propagation delay', async () => {
      const ruleArn = alb.listeners[1]?.ruleArn ?? '';
      sim.setPropagationDelay(2_000);
      try {
        const out = await client.send(
          new ModifyRuleCommand({
            RuleArn: ruleArn,
            Actions: [
              {
                Type: 'forward',
                ForwardConfig: {
                  TargetGroups: [
                    { TargetGroupArn: alb.stableTargetGroupArn, Weight: 50 },
                    { TargetGroupArn: alb.canaryTargetGroupArn, Weight: 50 },
                  ],
                  TargetGroupStickinessConfig: { Enabled: false },
                },
              },
            ],
          }),
        );
        const weightsOf = (actions: typeof out.Rules) =>
          actions?.[0]?.Actions?.[0]?.ForwardConfig?.TargetGroups?.map((t) => t.Weight);
        expect(weightsOf(out.Rules)).toEqual([50, 50]);

        const describe = () => client.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }));
        expect(weightsOf((await describe()).Rules)).toEqual([80, 20]);
        expect(sim.ruleWeights(ruleArn, 'desired')).toEqual({
          [alb.stableTargetGroupArn]: 50,
          [alb.canaryTargetGroupArn]: 50,
        });
        clock.advance(1_999);
        expect(weightsOf((await describe()).Rules)).toEqual([80, 20]);
        clock.advance(1);
        expect(weightsOf((await describe()).Rules)).toEqual([50, 50]);

        // the controller applying Argo's next step in-process, same propagation
        sim.setRuleWeights(ruleArn, { [alb.stableTargetGroupArn]: 0, [alb.canaryTargetGroupArn]: 100 });
        expect(sim.ruleWeights(ruleArn)).toEqual({
          [alb.stableTargetGroupArn]: 50,
          [alb.canaryTargetGroupArn]: 50,
        });
        clock.advance(2_000);
        expect(weightsOf((await describe()).Rules)).toEqual([0, 100]);
      } finally {
        sim.setPropagationDelay(0);
      }
    });

    it('rejects unknown rules, unknown target groups and weights out of range', async () => {
      const ruleArn = alb.ruleArns[0] ?? '';
      const missing = `${ruleArn.slice(0, -16)}ffffffffffffffff`;
      expect(
        await failure(
          client.send(
            new ModifyRuleCommand({
              RuleArn: missing,
              Actions: [{ Type: 'forward', TargetGroupArn: alb.stableTargetGroupArn }],
            }),
          ),
        ),
      ).toMatchObject({ name: 'RuleNotFoundException', status: 400 });
      const gone = `${alb.stableTargetGroupArn.slice(0, -16)}0000000000000000`;
      expect(
        await failure(
          client.send(
            new ModifyRuleCommand({ RuleArn: ruleArn, Actions: [{ Type: 'forward', TargetGroupArn: gone }] }),
          ),
        ),
      ).toMatchObject({ name: 'TargetGroupNotFoundException' });
      const outOfRange = await failure(
        client.send(
          new ModifyRuleCommand({
            RuleArn: ruleArn,
            Actions: [
              {
                Type: 'forward',
                ForwardConfig: { TargetGroups: [{ TargetGroupArn: alb.stableTargetGroupArn, Weight: 1000 }] },
              },
            ],
          }),
        ),
      );
      expect(outOfRange.name).toBe('ValidationError');
      expect(sim.ruleWeights(ruleArn)).toEqual({
        [alb.stableTargetGroupArn]: 80,
        [alb.canaryTargetGroupArn]: 20,
      });
    });
  });

  describe('failure injection and counters', () => {
    it('answers AccessDenied (403) for a denied action, naming the IAM action', async () => {
      sim.denyAction('DescribeTargetHealth');
      try {
        const error = await failure(
          client.send(new DescribeTargetHealthCommand({ TargetGroupArn: alb.stableTargetGroupArn })),
        );
        expect(error).toEqual({
          name: 'AccessDenied',
          status: 403,
          message:
            'User: arn:aws:sts::123456789012:assumed-role/verify/fn is not authorized to perform: elasticloadbalancing:DescribeTargetHealth because no identity-based policy allows the elasticloadbalancing:DescribeTargetHealth action',
        });
        await client.send(new DescribeRulesCommand({ RuleArns: alb.ruleArns }));
      } finally {
        sim.allowAction('DescribeTargetHealth');
      }
      await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: alb.stableTargetGroupArn }));
    });

    it('injects a given error a given number of times', async () => {
      sim.injectError('DescribeRules', {
        code: 'RuleNotFound',
        message: 'One or more rules not found',
        times: 1,
      });
      expect(await failure(client.send(new DescribeRulesCommand({ RuleArns: alb.ruleArns })))).toEqual({
        name: 'RuleNotFoundException',
        message: 'One or more rules not found',
        status: 400,
      });
      const ok = await client.send(new DescribeRulesCommand({ RuleArns: alb.ruleArns }));
      expect(ok.Rules).toHaveLength(2);
    });

    it('delays every answer by the configured latency', async () => {
      sim.setLatency(60);
      try {
        const started = performance.now();
        await client.send(new DescribeLoadBalancersCommand({ Names: [alb.loadBalancerName] }));
        expect(performance.now() - started).toBeGreaterThanOrEqual(55);
      } finally {
        sim.setLatency(0);
      }
    });

    it('counts calls per action and resets the counters', async () => {
      sim.resetCalls();
      await client.send(new DescribeLoadBalancersCommand({ Names: [alb.loadBalancerName] }));
      await client.send(new DescribeRulesCommand({ RuleArns: alb.ruleArns }));
      await client.send(new DescribeRulesCommand({ RuleArns: alb.ruleArns }));
      expect(sim.calls()).toEqual({ DescribeLoadBalancers: 1, DescribeRules: 2 });
      expect(sim.stats()).toMatchObject({ throttledTotal: 0, peakCallsPerSecond: 3 });
      sim.resetCalls();
      expect(sim.calls()).toEqual({});
    });

    it('answers an unknown action with InvalidAction', async () => {
      const res = await fetch(sim.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'Action=DeleteLoadBalancer&Version=2015-12-01',
      });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('<Code>InvalidAction</Code>');
    });
  });
});

describe('ELBv2 simulator: the shared Describe* budget', () => {
  let clock: ManualClock;
  let sim: Elbv2Sim;
  let client: ElasticLoadBalancingV2Client;
  let alb: IngressAlb;

  beforeAll(async () => {
    clock = createManualClock();
    sim = await startElbv2Sim({ now: clock.now });
    alb = sim.addIngressAlb({
      cluster: 'prod',
      namespace: 'shop',
      ingress: 'web',
      stableService: 'web-stable',
      canaryService: 'web-canary',
      servicePort: 80,
      canaryWeight: 10,
    });
    client = clientFor(sim);
  });

  afterAll(async () => {
    client.destroy();
    await sim.close();
  });

  it('throttles the 41st Describe call of a burst with Throttling / Rate exceeded, and refills at 10/s', async () => {
    const describe = () => client.send(new DescribeRulesCommand({ RuleArns: alb.ruleArns }));
    for (let i = 0; i < 40; i++) await describe();
    const throttled = await failure(describe());
    expect(throttled).toEqual({ name: 'Throttling', message: 'Rate exceeded', status: 400 });
    // another Describe* action draws from the same bucket
    expect(
      (await failure(client.send(new DescribeTagsCommand({ ResourceArns: [alb.loadBalancerArn] })))).name,
    ).toBe('Throttling');

    // mutations are not charged to it
    await client.send(
      new ModifyRuleCommand({
        RuleArn: alb.ruleArns[0],
        Actions: [{ Type: 'forward', TargetGroupArn: alb.stableTargetGroupArn }],
      }),
    );
    await client.send(
      new RegisterTargetsCommand({ TargetGroupArn: alb.canaryTargetGroupArn, Targets: [{ Id: '10.0.5.5' }] }),
    );
    await client.send(
      new DeregisterTargetsCommand({
        TargetGroupArn: alb.canaryTargetGroupArn,
        Targets: [{ Id: '10.0.5.5' }],
      }),
    );

    clock.advance(100); // one token
    await describe();
    expect((await failure(describe())).name).toBe('Throttling');
    clock.advance(1_000); // ten tokens
    for (let i = 0; i < 10; i++) await describe();
    expect((await failure(describe())).name).toBe('Throttling');
    clock.advance(60_000); // never more than the burst
    expect(sim.tokens()).toBe(40);

    expect(sim.throttledCalls()).toBe(4);
    expect(sim.stats()).toMatchObject({
      calls: { DescribeRules: 54, DescribeTags: 1, ModifyRule: 1, RegisterTargets: 1, DeregisterTargets: 1 },
      throttled: { DescribeRules: 3, DescribeTags: 1 },
      throttledTotal: 4,
      peakCallsPerSecond: 47, // 45 calls before the first refill, 2 more 100 ms later: one second of the clock
    });
  });

  it('can be reconfigured or disabled', async () => {
    sim.setRateLimit({ burst: 2, refillPerSecond: 1 });
    const describe = () => client.send(new DescribeLoadBalancersCommand({ Names: [alb.loadBalancerName] }));
    await describe();
    await describe();
    expect((await failure(describe())).name).toBe('Throttling');
    sim.setRateLimit(false);
    for (let i = 0; i < 5; i++) await describe();
    expect(sim.tokens()).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('ELBv2 simulator lifecycle', () => {
  it('closes promptly even with the client keeping connections alive, and refuses connections after', async () => {
    const sim = await startElbv2Sim();
    const client = clientFor(sim);
    const alb = sim.addIngressAlb({
      cluster: 'c',
      namespace: 'n',
      ingress: 'i',
      stableService: 's',
      canaryService: 'k',
      servicePort: 80,
    });
    await client.send(new DescribeLoadBalancersCommand({ Names: [alb.loadBalancerName] }));
    const started = performance.now();
    await sim.close();
    expect(performance.now() - started).toBeLessThan(500);
    const error = await failure(
      client.send(new DescribeLoadBalancersCommand({ Names: [alb.loadBalancerName] })),
    );
    expect(error.message).toMatch(/ECONNREFUSED|socket hang up|ECONNRESET/);
    client.destroy();
  });
});
