import { sha256Hex } from './clock.js';
import type { ElbAccount, LoadBalancerScheme, StickinessSpec, TargetType } from './model.js';

/**
 * Seeds the account the way the AWS Load Balancer Controller builds an Ingress that Argo Rollouts
 * shifts traffic on: one load balancer per Ingress (or IngressGroup), one target group per
 * backend service, and on every listener one rule whose forward action splits traffic between
 * the stable and canary target groups by weight.
 *
 * Names and tags follow the controller's model builder (aws-load-balancer-controller,
 * pkg/ingress/model_build_load_balancer.go and the tracking provider):
 * - load balancer `k8s-<ns:8>-<ingress:8>-<sha256(cluster, "ns/ingress", scheme):10>` (explicit
 *   group: `k8s-<group:17>-<hash:10>`), tags `elbv2.k8s.aws/cluster`, `ingress.k8s.aws/stack`
 *   (`ns/ingress` or the group name) and `ingress.k8s.aws/resource=LoadBalancer`;
 * - target groups `k8s-<ns:8>-<svc:8>-<hash:10>`, same stack tags and
 *   `ingress.k8s.aws/resource=<ns>/<ingress>-<svc>:<port>` (the key Argo's target group
 *   verification looks up); `service.k8s.aws/*` tags belong to Service-type load balancers and
 *   are not written for an Ingress;
 * - listeners tagged with resource `<port>`, rules with `<port>:<priority>`; the default rule is
 *   the controller's fixed 404.
 */

export interface IngressAlbSpec {
  cluster: string;
  namespace: string;
  ingress: string;
  stableService: string;
  canaryService: string;
  /** The Service port the Ingress backend names (Argo's `trafficRouting.alb.servicePort`). */
  servicePort: number;
  /** `PROTOCOL:port` per listener; default `['HTTP:80']`. */
  listeners?: string[];
  canaryWeight?: number;
  /** Default `100 - canaryWeight`. */
  stableWeight?: number;
  /** Targets registered in each group; default 2 stable, 0 canary. */
  targets?: { stable?: number; canary?: number };
  /** `healthy` (default): targets are healthy at once; `initial`: they start the health-check clock. */
  targetState?: 'healthy' | 'initial';
  scheme?: LoadBalancerScheme;
  /** Adds a host-header condition; the path-pattern condition is `path` (default `/*`). */
  host?: string;
  path?: string;
  /** Default `ip` (what Argo's ALB integration is normally used with). */
  targetType?: TargetType;
  /** The pod port for `ip` targets; default 8080. */
  targetPort?: number;
  /** An explicit IngressGroup (`alb.ingress.kubernetes.io/group.name`). */
  group?: string;
  stickiness?: StickinessSpec;
}

export interface IngressAlbListener {
  protocol: 'HTTP' | 'HTTPS';
  port: number;
  listenerArn: string;
  /** The weighted forward rule (priority 1; in an IngressGroup, the next free one). */
  ruleArn: string;
  defaultRuleArn: string;
}

export interface IngressAlb {
  loadBalancerArn: string;
  loadBalancerName: string;
  dnsName: string;
  scheme: LoadBalancerScheme;
  stackTag: string;
  stableTargetGroupArn: string;
  stableTargetGroupName: string;
  canaryTargetGroupArn: string;
  canaryTargetGroupName: string;
  stableResourceTag: string;
  canaryResourceTag: string;
  listeners: IngressAlbListener[];
  listenerArns: string[];
  ruleArns: string[];
  stableTargetIds: string[];
  canaryTargetIds: string[];
}

const sanitize = (value: string) => value.replace(/[^A-Za-z0-9]/g, '');

/** The name the controller gives the load balancer of an Ingress (or IngressGroup). */
export function controllerLoadBalancerName(
  cluster: string,
  stack: { namespace: string; ingress: string } | { group: string },
  scheme: LoadBalancerScheme,
): string {
  const stackId = 'group' in stack ? stack.group : `${stack.namespace}/${stack.ingress}`;
  const hash = sha256Hex(cluster, stackId, scheme);
  if ('group' in stack) return `k8s-${sanitize(stack.group).slice(0, 17)}-${hash.slice(0, 10)}`;
  return `k8s-${sanitize(stack.namespace).slice(0, 8)}-${sanitize(stack.ingress).slice(0, 8)}-${hash.slice(0, 10)}`;
}

/** `ingress.k8s.aws/resource` of a target group: `<ns>/<ingress>-<service>:<port>`. */
export function targetGroupResourceTag(
  namespace: string,
  ingress: string,
  service: string,
  port: number,
): string {
  return `${namespace}/${ingress}-${service}:${port}`;
}

function parseListener(value: string): { protocol: 'HTTP' | 'HTTPS'; port: number } {
  const [protocol, portText] = value.split(':');
  const port = Number(portText);
  if ((protocol !== 'HTTP' && protocol !== 'HTTPS') || !Number.isInteger(port)) {
    throw new Error(`listener '${value}' is not PROTOCOL:port with HTTP or HTTPS`);
  }
  return { protocol, port };
}

export function addIngressAlb(account: ElbAccount, spec: IngressAlbSpec): IngressAlb {
  const scheme = spec.scheme ?? 'internet-facing';
  const stackTag = spec.group ?? `${spec.namespace}/${spec.ingress}`;
  const name = controllerLoadBalancerName(
    spec.cluster,
    spec.group ? { group: spec.group } : { namespace: spec.namespace, ingress: spec.ingress },
    scheme,
  );
  const stackTags = { 'elbv2.k8s.aws/cluster': spec.cluster, 'ingress.k8s.aws/stack': stackTag };
  // An IngressGroup shares one load balancer and its listeners: each member adds its own rules.
  const lb =
    (spec.group ? account.loadBalancerByName(name) : undefined) ??
    account.addLoadBalancer({
      name,
      scheme,
      tags: { ...stackTags, 'ingress.k8s.aws/resource': 'LoadBalancer' },
    });

  const targetType = spec.targetType ?? 'ip';
  const targetPort = spec.targetPort ?? (targetType === 'ip' ? 8080 : 30_080);
  const makeTargetGroup = (service: string) => {
    const resource = targetGroupResourceTag(spec.namespace, spec.ingress, service, spec.servicePort);
    const hash = sha256Hex(spec.cluster, stackTag, service, String(spec.servicePort), targetType, 'HTTP');
    const tgName = `k8s-${sanitize(spec.namespace).slice(0, 8)}-${sanitize(service).slice(0, 8)}-${hash.slice(0, 10)}`;
    return {
      resource,
      tg: account.addTargetGroup({
        name: tgName,
        port: targetPort,
        protocol: 'HTTP',
        targetType,
        vpcId: lb.vpcId,
        // the controller's defaults, not the API's: 15 s interval, 2 healthy checks
        healthCheck: { intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 2 },
        tags: { ...stackTags, 'ingress.k8s.aws/resource': resource },
      }),
    };
  };
  const stable = makeTargetGroup(spec.stableService);
  const canary = makeTargetGroup(spec.canaryService);

  const canaryWeight = spec.canaryWeight ?? 0;
  const stableWeight = spec.stableWeight ?? 100 - canaryWeight;
  const conditions = [
    ...(spec.host ? [{ field: 'host-header' as const, values: [spec.host] }] : []),
    { field: 'path-pattern' as const, values: [spec.path ?? '/*'] },
  ];
  const listeners: IngressAlbListener[] = [];
  for (const text of spec.listeners ?? ['HTTP:80']) {
    const { protocol, port } = parseListener(text);
    const listener =
      lb.listenerArns
        .map((arn) => account.listeners.get(arn))
        .find((existing) => existing?.port === port && existing.protocol === protocol) ??
      account.addListener(lb.arn, {
        protocol,
        port,
        tags: { ...stackTags, 'ingress.k8s.aws/resource': String(port) },
      });
    // the next free priority: the group's members in the order they were added
    const priority = listener.ruleArns.length;
    const rule = account.addRule(listener.arn, {
      priority,
      conditions,
      actions: [
        {
          type: 'forward',
          targetGroups: [
            { targetGroupArn: stable.tg.arn, weight: stableWeight },
            { targetGroupArn: canary.tg.arn, weight: canaryWeight },
          ],
          stickiness: spec.stickiness ?? { enabled: false },
        },
      ],
      tags: { ...stackTags, 'ingress.k8s.aws/resource': `${port}:${priority}` },
    });
    listeners.push({
      protocol,
      port,
      listenerArn: listener.arn,
      ruleArn: rule.arn,
      defaultRuleArn: account.defaultRuleOf(listener).arn,
    });
  }

  const healthy = (spec.targetState ?? 'healthy') === 'healthy';
  const register = (tgArn: string, count: number, salt: string) => {
    const ids = Array.from({ length: count }, (_, i) =>
      targetId(account, targetType, `${name}/${salt}/${i}`),
    );
    account.registerTargets(
      tgArn,
      ids.map((id) => ({ id })),
      { healthy },
    );
    return ids;
  };
  const stableTargetIds = register(stable.tg.arn, spec.targets?.stable ?? 2, 'stable');
  const canaryTargetIds = register(canary.tg.arn, spec.targets?.canary ?? 0, 'canary');

  return {
    loadBalancerArn: lb.arn,
    loadBalancerName: lb.name,
    dnsName: lb.dnsName,
    scheme,
    stackTag,
    stableTargetGroupArn: stable.tg.arn,
    stableTargetGroupName: stable.tg.name,
    canaryTargetGroupArn: canary.tg.arn,
    canaryTargetGroupName: canary.tg.name,
    stableResourceTag: stable.resource,
    canaryResourceTag: canary.resource,
    listeners,
    listenerArns: listeners.map((l) => l.listenerArn),
    ruleArns: listeners.map((l) => l.ruleArn),
    stableTargetIds,
    canaryTargetIds,
  };
}

/** A pod IP in 10.0.0.0/16 or an EC2 instance id, deterministic per seed and salt. */
export function targetId(account: ElbAccount, targetType: TargetType, salt: string): string {
  const hex = account.settings.ids.hex(17, 'target', salt);
  if (targetType === 'instance') return `i-${hex}`;
  const a = Number.parseInt(hex.slice(0, 2), 16);
  const b = (Number.parseInt(hex.slice(2, 4), 16) % 254) + 1;
  return `10.0.${a}.${b}`;
}

export interface UnrelatedLoadBalancersOptions {
  /** The cluster tag they carry (another cluster's, by default). */
  cluster?: string;
  /** Give each a target group and a forward rule (more Describe* work per load balancer). */
  withTargetGroups?: boolean;
}

/** Fills the account with load balancers that belong to something else, e.g. 500 of them for paging benchmarks. */
export function addUnrelatedLoadBalancers(
  account: ElbAccount,
  count: number,
  options: UnrelatedLoadBalancersOptions = {},
): string[] {
  const cluster = options.cluster ?? 'other-cluster';
  const arns: string[] = [];
  const base = account.loadBalancers.size;
  for (let i = 0; i < count; i++) {
    const n = base + i;
    const namespace = `team${n % 37}`;
    const ingress = `app${n}`;
    const stackTags = {
      'elbv2.k8s.aws/cluster': cluster,
      'ingress.k8s.aws/stack': `${namespace}/${ingress}`,
    };
    const lb = account.addLoadBalancer({
      name: controllerLoadBalancerName(cluster, { namespace, ingress }, 'internet-facing'),
      tags: { ...stackTags, 'ingress.k8s.aws/resource': 'LoadBalancer' },
    });
    const listener = account.addListener(lb.arn, {
      protocol: 'HTTP',
      port: 80,
      tags: { ...stackTags, 'ingress.k8s.aws/resource': '80' },
    });
    if (options.withTargetGroups) {
      const tg = account.addTargetGroup({
        name: `k8s-${namespace}-${ingress}-${sha256Hex(cluster, namespace, ingress).slice(0, 10)}`.slice(
          0,
          32,
        ),
        port: 8080,
        targetType: 'ip',
        vpcId: lb.vpcId,
        tags: {
          ...stackTags,
          'ingress.k8s.aws/resource': targetGroupResourceTag(namespace, ingress, ingress, 80),
        },
      });
      account.addRule(listener.arn, {
        priority: 1,
        conditions: [{ field: 'path-pattern', values: ['/*'] }],
        actions: [{ type: 'forward', targetGroups: [{ targetGroupArn: tg.arn, weight: 1 }] }],
        tags: { ...stackTags, 'ingress.k8s.aws/resource': '80:1' },
      });
    }
    arns.push(lb.arn);
  }
  return arns;
}
