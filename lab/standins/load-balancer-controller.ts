import { createHash } from 'node:crypto';
import {
  type Action,
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  RegisterTargetsCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { LAB_REGION } from '../aws/moto.js';
import { awsQuery, xmlValue } from '../aws/wire.js';
import type { KubeClient, KubeObject } from '../kube/client.js';
import { sleep } from '../runtime/processes.js';

/**
 * STAND-IN for the AWS Load Balancer Controller. The real one is not served by the Go module
 * proxy here (sigs.k8s.io/aws-load-balancer-controller: every v2.x/v3.x release and commit answers
 * 403 "not available"; only v1.1.9 of 2020 is served, which watches extensions/v1beta1 Ingresses
 * that Kubernetes stopped serving in 1.22). This is the smallest part the lab needs: for each
 * `alb` Ingress of the real API server it keeps, on moto's ELBv2 (real SDK calls), the load
 * balancer, one HTTP:80 listener, one rule per Ingress path whose forward action is Argo's
 * `alb.ingress.kubernetes.io/actions.<service>` annotation (weights applied in place with
 * ModifyRule), IP-mode target groups with the controller's names and tags, the ready endpoints of
 * each Service's EndpointSlices registered as targets, and the Ingress status hostname.
 * It polls (every `intervalMs`) instead of watching. Not modelled: IngressGroups, TLS listeners,
 * conditions annotations, health checks (moto reports every registered target healthy).
 */
export class LoadBalancerControllerStandIn {
  private readonly elb: ElasticLoadBalancingV2Client;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private network: { vpcId: string; subnets: string[]; securityGroup: string } | undefined;
  /** Namespaces whose Ingresses are left alone ("the controller is stopped" for them). */
  private readonly frozen = new Set<string>();
  /** Every ELBv2 write it made, oldest first: what the controller did, for the captures. */
  readonly writes: Array<{ atMs: number; action: string; detail: unknown }> = [];
  private readonly startedAt = Date.now();

  constructor(
    private readonly kube: KubeClient,
    private readonly motoEndpoint: string,
    private readonly clusterName: string,
    private readonly log: (line: string) => void,
    private readonly intervalMs = 500,
  ) {
    this.elb = new ElasticLoadBalancingV2Client({
      region: LAB_REGION,
      endpoint: motoEndpoint,
      credentials: { accessKeyId: 'lab-load-balancer-controller', secretAccessKey: 'lab' },
      // A request moto never answers must not stall the controller loop.
      requestHandler: { requestTimeout: 10_000, connectionTimeout: 2_000 },
    });
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          await this.reconcileAll();
        } catch (error) {
          this.log(`load-balancer-controller stand-in: ${(error as Error).message}`);
        }
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  freeze(namespace: string): void {
    this.frozen.add(namespace);
  }

  thaw(namespace: string): void {
    this.frozen.delete(namespace);
  }

  /** Stops reconciling Ingresses in a namespace that is being deleted. */
  forget(namespace: string): void {
    for (const key of this.applied.keys()) if (key.startsWith(`${namespace}/`)) this.applied.delete(key);
  }

  private async ensureNetwork() {
    if (this.network) return this.network;
    const ec2 = (params: Record<string, string>) => awsQuery(this.motoEndpoint, 'ec2', '2016-11-15', params);
    const vpcId = xmlValue(await ec2({ Action: 'CreateVpc', CidrBlock: '198.51.100.0/24' }), 'vpcId')!;
    const subnets = [];
    for (const [cidr, zone] of [
      ['198.51.100.0/25', 'eu-west-1a'],
      ['198.51.100.128/25', 'eu-west-1b'],
    ] as const) {
      subnets.push(
        xmlValue(
          await ec2({ Action: 'CreateSubnet', VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone }),
          'subnetId',
        )!,
      );
    }
    const securityGroup = xmlValue(
      await ec2({
        Action: 'CreateSecurityGroup',
        GroupName: 'k8s-lab-alb',
        GroupDescription: 'lab ALBs',
        VpcId: vpcId,
      }),
      'groupId',
    )!;
    this.network = { vpcId, subnets, securityGroup };
    return this.network;
  }

  /**
   * One pass: two list calls to the API server, and calls to ELBv2 only for an Ingress whose
   * inputs (its spec and annotations, its Services' EndpointSlices) changed since it was last
   * reconciled — the real controller is driven by watches the same way, and moto, one Python
   * process on a 2-core machine, cannot take a full resync of every Ingress twice a second.
   */
  private async reconcileAll(): Promise<void> {
    const ingresses = await this.kube.list('networking.k8s.io/v1', 'Ingress');
    const slices = await this.kube.list('discovery.k8s.io/v1', 'EndpointSlice');
    for (const ingress of ingresses) {
      const className =
        (ingress.spec?.ingressClassName as string | undefined) ??
        ingress.metadata.annotations?.['kubernetes.io/ingress.class'];
      if (className !== 'alb' || this.frozen.has(ingress.metadata.namespace!)) continue;
      const key = `${ingress.metadata.namespace}/${ingress.metadata.name}`;
      const inputs = JSON.stringify([
        ingress.metadata.annotations,
        ingress.spec,
        (ingress.status as { loadBalancer?: unknown } | undefined)?.loadBalancer,
        slices
          .filter((slice) => slice.metadata.namespace === ingress.metadata.namespace)
          .map((slice) => [slice.metadata.name, slice.metadata.resourceVersion]),
      ]);
      if (this.applied.get(key) === inputs) continue;
      try {
        await this.reconcile(ingress);
        this.applied.set(key, inputs);
      } catch (error) {
        this.log(`load-balancer-controller stand-in: ${key}: ${(error as Error).message}`);
      }
    }
  }

  /** What each Ingress was last reconciled from (see reconcileAll). */
  private readonly applied = new Map<string, string>();

  private record(action: string, detail: unknown) {
    this.writes.push({ atMs: Date.now() - this.startedAt, action, detail });
  }

  /** The name the controller gives the load balancer of an Ingress outside an explicit IngressGroup. */
  static loadBalancerName(cluster: string, namespace: string, name: string, scheme: string): string {
    const hash = createHash('sha256')
      .update(cluster)
      .update(`${namespace}/${name}`)
      .update(scheme)
      .digest('hex');
    const clean = (value: string) => value.replace(/[^A-Za-z0-9]/g, '');
    return `k8s-${clean(namespace).slice(0, 8)}-${clean(name).slice(0, 8)}-${hash.slice(0, 10)}`;
  }

  private async reconcile(ingress: KubeObject): Promise<void> {
    const namespace = ingress.metadata.namespace!;
    const name = ingress.metadata.name;
    const annotations = ingress.metadata.annotations ?? {};
    const scheme = annotations['alb.ingress.kubernetes.io/scheme'] ?? 'internal';
    const stack = `${namespace}/${name}`;
    const network = await this.ensureNetwork();
    const lbName = LoadBalancerControllerStandIn.loadBalancerName(this.clusterName, namespace, name, scheme);
    const tags = [
      { Key: 'elbv2.k8s.aws/cluster', Value: this.clusterName },
      { Key: 'ingress.k8s.aws/stack', Value: stack },
    ];
    let loadBalancer = await this.elb
      .send(new DescribeLoadBalancersCommand({ Names: [lbName] }))
      .then((answer) => answer.LoadBalancers?.[0])
      .catch(() => undefined);
    if (!loadBalancer) {
      loadBalancer = (
        await this.elb.send(
          new CreateLoadBalancerCommand({
            Name: lbName,
            Type: 'application',
            Scheme: scheme === 'internet-facing' ? 'internet-facing' : 'internal',
            Subnets: network.subnets,
            SecurityGroups: [network.securityGroup],
            Tags: [...tags, { Key: 'ingress.k8s.aws/resource', Value: 'LoadBalancer' }],
          }),
        )
      ).LoadBalancers![0]!;
      this.record('CreateLoadBalancer', { name: lbName, ingress: stack });
    }
    const lbArn = loadBalancer.LoadBalancerArn!;
    let listener = (await this.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn })))
      .Listeners?.[0];
    if (!listener) {
      listener = (
        await this.elb.send(
          new CreateListenerCommand({
            LoadBalancerArn: lbArn,
            Protocol: 'HTTP',
            Port: 80,
            DefaultActions: [
              {
                Type: 'fixed-response',
                FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain' },
              },
            ],
          }),
        )
      ).Listeners![0]!;
      this.record('CreateListener', { loadBalancer: lbName, port: 80 });
    }

    const desired: Array<{ conditions: Rule['Conditions']; actions: Action[] }> = [];
    const targetGroups = new Map<string, string>();
    const targetGroupOf = async (service: string, port: string | number) => {
      const key = `${service}:${port}`;
      if (!targetGroups.has(key)) targetGroups.set(key, await this.ensureTargetGroup(ingress, service, port));
      return targetGroups.get(key)!;
    };
    const rules = (ingress.spec?.rules ?? []) as Array<{
      host?: string;
      http?: {
        paths: Array<{
          path?: string;
          backend: { service: { name: string; port: { name?: string; number?: number } } };
        }>;
      };
    }>;
    for (const rule of rules) {
      for (const path of rule.http?.paths ?? []) {
        const service = path.backend.service;
        const conditions: NonNullable<Rule['Conditions']> = [];
        if (rule.host) conditions.push({ Field: 'host-header', HostHeaderConfig: { Values: [rule.host] } });
        const pattern = !path.path || path.path === '/' ? '/*' : `${path.path.replace(/\/$/, '')}*`;
        conditions.push({ Field: 'path-pattern', PathPatternConfig: { Values: [pattern] } });
        let actions: Action[];
        if (service.port.name === 'use-annotation') {
          const raw = annotations[`alb.ingress.kubernetes.io/actions.${service.name}`];
          if (!raw) continue;
          actions = [await this.actionFromAnnotation(JSON.parse(raw), targetGroupOf)];
        } else {
          const arn = await targetGroupOf(service.name, service.port.number ?? service.port.name!);
          actions = [
            { Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: arn, Weight: 1 }] } },
          ];
        }
        desired.push({ conditions, actions });
      }
    }
    await this.applyRules(listener.ListenerArn!, desired);
    for (const [key, arn] of targetGroups) await this.registerTargets(namespace, key.split(':')[0]!, arn);

    const hostname = loadBalancer.DNSName!;
    const status = ingress.status as
      | { loadBalancer?: { ingress?: Array<{ hostname?: string }> } }
      | undefined;
    if (status?.loadBalancer?.ingress?.[0]?.hostname !== hostname) {
      await this.kube.mergePatch(
        'networking.k8s.io/v1',
        'Ingress',
        name,
        namespace,
        {
          status: { loadBalancer: { ingress: [{ hostname }] } },
        },
        'status',
      );
    }
  }

  private async actionFromAnnotation(
    action: {
      Type: string;
      ForwardConfig?: {
        TargetGroups: Array<{
          ServiceName?: string;
          ServicePort?: string | number;
          TargetGroupArn?: string;
          Weight?: number;
        }>;
        TargetGroupStickinessConfig?: { Enabled?: boolean; DurationSeconds?: number };
      };
    },
    targetGroupOf: (service: string, port: string | number) => Promise<string>,
  ): Promise<Action> {
    if (action.Type !== 'forward' || !action.ForwardConfig) return action as Action;
    const groups = [];
    for (const group of action.ForwardConfig.TargetGroups) {
      const arn = group.TargetGroupArn ?? (await targetGroupOf(group.ServiceName!, group.ServicePort ?? 80));
      groups.push({ TargetGroupArn: arn, Weight: group.Weight ?? 1 });
    }
    return {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: groups,
        ...(action.ForwardConfig.TargetGroupStickinessConfig
          ? { TargetGroupStickinessConfig: action.ForwardConfig.TargetGroupStickinessConfig }
          : {}),
      },
    };
  }

  private async applyRules(
    listenerArn: string,
    desired: Array<{ conditions: Rule['Conditions']; actions: Action[] }>,
  ): Promise<void> {
    const existing = (
      (await this.elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn }))).Rules ?? []
    )
      .filter((rule) => !rule.IsDefault)
      .sort((a, b) => Number(a.Priority) - Number(b.Priority));
    for (const [index, want] of desired.entries()) {
      const have = existing.find((rule) => Number(rule.Priority) === index + 1);
      if (!have) {
        await this.elb.send(
          new CreateRuleCommand({
            ListenerArn: listenerArn,
            Priority: index + 1,
            Conditions: want.conditions,
            Actions: want.actions,
          }),
        );
        this.record('CreateRule', { listenerArn, priority: index + 1, actions: want.actions });
      } else if (
        !sameForward(have.Actions ?? [], want.actions) ||
        !sameJson(have.Conditions, want.conditions)
      ) {
        await this.elb.send(
          new ModifyRuleCommand({
            RuleArn: have.RuleArn,
            Conditions: want.conditions,
            Actions: want.actions,
          }),
        );
        this.record('ModifyRule', { ruleArn: have.RuleArn, actions: want.actions });
      }
    }
    for (const extra of existing.filter((rule) => Number(rule.Priority) > desired.length)) {
      await this.elb.send(new DeleteRuleCommand({ RuleArn: extra.RuleArn }));
      this.record('DeleteRule', { ruleArn: extra.RuleArn });
    }
  }

  private async ensureTargetGroup(
    ingress: KubeObject,
    service: string,
    port: string | number,
  ): Promise<string> {
    const namespace = ingress.metadata.namespace!;
    const resource = `${namespace}/${ingress.metadata.name}-${service}:${port}`;
    const clean = (value: string) => value.replace(/[^A-Za-z0-9]/g, '');
    const hash = createHash('sha256').update(this.clusterName).update(resource).update('ip').digest('hex');
    const name = `k8s-${clean(namespace).slice(0, 8)}-${clean(service).slice(0, 8)}-${hash.slice(0, 10)}`;
    const found = await this.elb
      .send(new DescribeTargetGroupsCommand({ Names: [name] }))
      .then((answer) => answer.TargetGroups?.[0]?.TargetGroupArn)
      .catch(() => undefined);
    if (found) return found;
    const network = await this.ensureNetwork();
    const created = (
      await this.elb.send(
        new CreateTargetGroupCommand({
          Name: name,
          Protocol: 'HTTP',
          Port: 80,
          VpcId: network.vpcId,
          TargetType: 'ip',
        }),
      )
    ).TargetGroups![0]!.TargetGroupArn!;
    await this.elb.send(
      new AddTagsCommand({
        ResourceArns: [created],
        Tags: [
          { Key: 'elbv2.k8s.aws/cluster', Value: this.clusterName },
          { Key: 'ingress.k8s.aws/stack', Value: `${namespace}/${ingress.metadata.name}` },
          { Key: 'ingress.k8s.aws/resource', Value: resource },
        ],
      }),
    );
    this.record('CreateTargetGroup', { name, resource });
    return created;
  }

  /** Ready endpoints of the Service's EndpointSlices, on their port, are the targets: nothing else. */
  private async registerTargets(namespace: string, service: string, targetGroupArn: string): Promise<void> {
    const slices = await this.kube.list(
      'discovery.k8s.io/v1',
      'EndpointSlice',
      namespace,
      `labelSelector=kubernetes.io/service-name%3D${service}`,
    );
    const wanted = new Map<string, { Id: string; Port: number }>();
    for (const slice of slices as Array<
      KubeObject & {
        endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }>;
        ports?: Array<{ port?: number }>;
      }
    >) {
      const port = slice.ports?.[0]?.port ?? 80;
      for (const endpoint of slice.endpoints ?? []) {
        if (endpoint.conditions?.ready === false) continue;
        for (const address of endpoint.addresses)
          wanted.set(`${address}:${port}`, { Id: address, Port: port });
      }
    }
    const registered =
      (await this.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })))
        .TargetHealthDescriptions ?? [];
    const have = new Map(
      registered.map((description) => [
        `${description.Target!.Id}:${description.Target!.Port}`,
        description.Target!,
      ]),
    );
    const add = [...wanted].filter(([key]) => !have.has(key)).map(([, target]) => target);
    const remove = [...have]
      .filter(([key]) => !wanted.has(key))
      .map(([, target]) => ({ Id: target.Id!, Port: target.Port! }));
    if (add.length > 0) {
      await this.elb.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: add }));
      this.record('RegisterTargets', { targetGroupArn, targets: add });
    }
    if (remove.length > 0) {
      await this.elb.send(new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: remove }));
      this.record('DeregisterTargets', { targetGroupArn, targets: remove });
    }
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Forward actions compared on what matters: the target groups and their weights. */
function sameForward(have: Action[], want: Action[]): boolean {
  const shape = (actions: Action[]) =>
    actions.map((action) => ({
      type: action.Type,
      groups: (action.ForwardConfig?.TargetGroups ?? []).map((group) => [
        group.TargetGroupArn,
        group.Weight ?? 1,
      ]),
    }));
  return sameJson(shape(have), shape(want));
}
