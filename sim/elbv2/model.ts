import type {
  TargetHealthReasonEnum,
  TargetHealthStateEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type IdSource, type Now, sha256Hex } from './clock.js';
import { SimError } from './errors.js';

/**
 * One simulated account and region of ELBv2 (Application Load Balancers only): load balancers,
 * listeners, rules, target groups and targets, with the time-dependent behaviour the verifier
 * has to live with — rule changes that become visible after a propagation delay, target health
 * that moves on a health-check clock, deregistration draining — all read from one injectable
 * clock so tests never sleep.
 */

export type TargetHealthStateName = TargetHealthStateEnum;
export type TargetHealthReason = TargetHealthReasonEnum;
export type UnhealthyReason = Extract<
  TargetHealthReason,
  'Target.FailedHealthChecks' | 'Target.ResponseCodeMismatch' | 'Target.Timeout' | 'Elb.InternalError'
>;
export type LoadBalancerScheme = 'internet-facing' | 'internal';
export type TargetType = 'ip' | 'instance';

export interface TargetGroupWeight {
  targetGroupArn: string;
  weight: number;
}

export interface StickinessSpec {
  enabled: boolean;
  durationSeconds?: number;
}

export interface ForwardActionSpec {
  type: 'forward';
  targetGroups: TargetGroupWeight[];
  stickiness?: StickinessSpec;
  order?: number;
}

export interface FixedResponseActionSpec {
  type: 'fixed-response';
  statusCode: string;
  contentType?: string;
  messageBody?: string;
  order?: number;
}

export type ActionSpec = ForwardActionSpec | FixedResponseActionSpec;

export interface ConditionSpec {
  field: 'host-header' | 'path-pattern';
  values: string[];
}

export interface LoadBalancerRecord {
  arn: string;
  name: string;
  id: string;
  dnsName: string;
  scheme: LoadBalancerScheme;
  vpcId: string;
  createdTime: Date;
  availabilityZones: Array<{ zoneName: string; subnetId: string }>;
  securityGroups: string[];
  tags: Map<string, string>;
  listenerArns: string[];
}

export interface ListenerRecord {
  arn: string;
  loadBalancerArn: string;
  protocol: 'HTTP' | 'HTTPS';
  port: number;
  certificateArn?: string;
  sslPolicy?: string;
  tags: Map<string, string>;
  /** Rule ARNs in creation order; the default rule is first. */
  ruleArns: string[];
}

interface PendingRuleChange {
  applyAt: number;
  actions?: ActionSpec[];
  conditions?: ConditionSpec[];
}

export interface RuleRecord {
  arn: string;
  listenerArn: string;
  priority: number | 'default';
  /** What Describe* shows now. */
  conditions: ConditionSpec[];
  actions: ActionSpec[];
  /** Accepted modifications not yet visible to Describe*, oldest first. */
  pending: PendingRuleChange[];
  tags: Map<string, string>;
}

export interface HealthCheckSettings {
  enabled: boolean;
  protocol: 'HTTP' | 'HTTPS';
  port: string;
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  matcher: string;
}

export interface TargetRecord {
  id: string;
  port: number;
  availabilityZone?: string;
  /** The health-check state machine; `unused`/`draining` are derived when reported. */
  state: 'initial' | 'healthy' | 'unhealthy';
  /** Checks run since the target was (re)registered or its target group came into use. */
  checks: number;
  /** Consecutive checks with the current outcome. */
  streak: number;
  lastCheckAt: number;
  /** Set while the target fails its health checks. */
  failing?: UnhealthyReason;
  failingCode?: string;
  lastFailure?: { reason: UnhealthyReason; code?: string };
  /** A state forced by the control API, reported as is until the next control call for the target. */
  pinned?: ReportedHealth;
  deregisteredAt?: number;
}

export interface TargetGroupRecord {
  arn: string;
  name: string;
  protocol: 'HTTP' | 'HTTPS';
  port: number;
  vpcId: string;
  targetType: TargetType;
  healthCheck: HealthCheckSettings;
  tags: Map<string, string>;
  targets: TargetRecord[];
}

export interface ReportedHealth {
  state: TargetHealthStateName;
  reason?: TargetHealthReason;
  description?: string;
}

export interface AccountSettings {
  region: string;
  accountId: string;
  now: Now;
  ids: IdSource;
  /** Simulated time between two health checks of a target (the TG's thresholds count them). */
  healthCheckIntervalMs: number;
  /** How long a deregistered target stays `draining`. */
  deregistrationDelayMs: number;
  /** How long an accepted ModifyRule takes to show in Describe*. */
  propagationDelayMs: number;
}

export interface LoadBalancerSpec {
  name: string;
  scheme?: LoadBalancerScheme;
  vpcId?: string;
  securityGroups?: string[];
  tags?: Record<string, string>;
}

export interface ListenerSpec {
  protocol: 'HTTP' | 'HTTPS';
  port: number;
  /** The default rule's actions; the load balancer controller's default is a fixed 404. */
  defaultActions?: ActionSpec[];
  certificateArn?: string;
  sslPolicy?: string;
  tags?: Record<string, string>;
}

export interface TargetGroupSpec {
  name: string;
  port: number;
  protocol?: 'HTTP' | 'HTTPS';
  targetType?: TargetType;
  vpcId?: string;
  healthCheck?: Partial<HealthCheckSettings>;
  tags?: Record<string, string>;
}

export interface RuleSpec {
  priority: number;
  conditions: ConditionSpec[];
  actions: ActionSpec[];
  tags?: Record<string, string>;
}

export interface TargetSpec {
  id: string;
  port?: number;
  availabilityZone?: string;
}

/** The reasons and descriptions AWS reports with each state (API reference, TargetHealth). */
const HEALTH_TEXT = {
  registering: { reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' },
  initialChecks: { reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' },
  notInUse: {
    reason: 'Target.NotInUse',
    description: 'Target group is not configured to receive traffic from the load balancer',
  },
  notRegistered: {
    reason: 'Target.NotRegistered',
    description: 'Target is not registered to the target group',
  },
  draining: {
    reason: 'Target.DeregistrationInProgress',
    description: 'Target deregistration is in progress',
  },
} as const;

function unhealthyDescription(reason: UnhealthyReason, code = '502'): string {
  switch (reason) {
    case 'Target.ResponseCodeMismatch':
      return `Health checks failed with these codes: [${code}]`;
    case 'Target.Timeout':
      return 'Request timed out';
    case 'Elb.InternalError':
      return 'Health checks failed due to an internal error';
    default:
      return 'Health checks failed';
  }
}

/** AWS load balancer defaults for a target group created without health check settings. */
export const DEFAULT_HEALTH_CHECK: HealthCheckSettings = {
  enabled: true,
  protocol: 'HTTP',
  port: 'traffic-port',
  path: '/',
  intervalSeconds: 30,
  timeoutSeconds: 5,
  healthyThreshold: 5,
  unhealthyThreshold: 2,
  matcher: '200',
};

/** Canonical hosted zone ids of Application Load Balancers, per region (the rest fall back to us-east-1's). */
const ALB_HOSTED_ZONES: Record<string, string> = {
  'us-east-1': 'Z35SXDOTRQ7X7K',
  'us-east-2': 'Z3AADJGX6KTTL2',
  'us-west-1': 'Z368ELLRRE2KJ0',
  'us-west-2': 'Z1H1FL5HABSF5',
  'eu-west-1': 'Z32O12XQLNTSW2',
  'eu-west-2': 'ZHURV8PSTC4K8',
  'eu-central-1': 'Z215JYRZR1TBD5',
  'ap-southeast-1': 'Z1LMS91P8CMLE5',
  'ap-northeast-1': 'Z14GRHDCWA56QT',
};

export class ElbAccount {
  readonly loadBalancers = new Map<string, LoadBalancerRecord>();
  readonly listeners = new Map<string, ListenerRecord>();
  readonly rules = new Map<string, RuleRecord>();
  readonly targetGroups = new Map<string, TargetGroupRecord>();
  private readonly loadBalancersByName = new Map<string, LoadBalancerRecord>();
  private readonly targetGroupsByName = new Map<string, TargetGroupRecord>();
  private readonly rulesWithPending = new Set<RuleRecord>();
  /** Target group ARN → ARNs of the load balancers whose visible rules forward to it. */
  private usageCache: Map<string, Set<string>> | undefined;
  private usedSnapshot = new Set<string>();

  constructor(readonly settings: AccountSettings) {}

  get now(): number {
    return this.settings.now();
  }

  get canonicalHostedZoneId(): string {
    return ALB_HOSTED_ZONES[this.settings.region] ?? 'Z35SXDOTRQ7X7K';
  }

  private arn(resource: string): string {
    return `arn:aws:elasticloadbalancing:${this.settings.region}:${this.settings.accountId}:${resource}`;
  }

  // ---------------------------------------------------------------- building the account

  addLoadBalancer(spec: LoadBalancerSpec): LoadBalancerRecord {
    if (
      !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(spec.name) ||
      spec.name.startsWith('internal-')
    ) {
      throw new Error(`invalid load balancer name '${spec.name}'`);
    }
    if (this.loadBalancersByName.has(spec.name))
      throw new Error(`duplicate load balancer name '${spec.name}'`);
    const { ids, region } = this.settings;
    const id = ids.hex(16, 'lb', spec.name);
    const scheme = spec.scheme ?? 'internet-facing';
    const prefix = scheme === 'internal' ? 'internal-' : '';
    const record: LoadBalancerRecord = {
      arn: this.arn(`loadbalancer/app/${spec.name}/${id}`),
      name: spec.name,
      id,
      dnsName: `${prefix}${spec.name}-${ids.decimal('dns', spec.name)}.${region}.elb.amazonaws.com`,
      scheme,
      vpcId: spec.vpcId ?? 'vpc-0a1b2c3d4e5f60718',
      createdTime: new Date(this.now),
      availabilityZones: ['a', 'b', 'c'].map((zone) => ({
        zoneName: `${region}${zone}`,
        subnetId: `subnet-${sha256Hex(region, zone, spec.vpcId ?? '').slice(0, 17)}`,
      })),
      securityGroups: spec.securityGroups ?? [`sg-${ids.hex(17, 'sg', spec.name)}`],
      tags: new Map(Object.entries(spec.tags ?? {})),
      listenerArns: [],
    };
    this.loadBalancers.set(record.arn, record);
    this.loadBalancersByName.set(record.name, record);
    return record;
  }

  addListener(loadBalancerArn: string, spec: ListenerSpec): ListenerRecord {
    const lb = this.loadBalancers.get(loadBalancerArn);
    if (!lb) throw new Error(`no load balancer ${loadBalancerArn}`);
    for (const existing of lb.listenerArns) {
      if (this.listeners.get(existing)?.port === spec.port)
        throw new Error(`duplicate listener port ${spec.port}`);
    }
    const id = this.settings.ids.hex(16, 'listener', lb.arn, String(spec.port));
    const listener: ListenerRecord = {
      arn: this.arn(`listener/app/${lb.name}/${lb.id}/${id}`),
      loadBalancerArn: lb.arn,
      protocol: spec.protocol,
      port: spec.port,
      tags: new Map(Object.entries(spec.tags ?? {})),
      ruleArns: [],
    };
    if (spec.protocol === 'HTTPS') {
      listener.certificateArn =
        spec.certificateArn ??
        `arn:aws:acm:${this.settings.region}:${this.settings.accountId}:certificate/${this.settings.ids.hex(8, 'cert')}-0000-4000-8000-${this.settings.ids.hex(12, 'cert')}`;
      listener.sslPolicy = spec.sslPolicy ?? 'ELBSecurityPolicy-2016-08';
    }
    const defaultActions = spec.defaultActions ?? [
      { type: 'fixed-response', statusCode: '404', contentType: 'text/plain' } as const,
    ];
    this.checkActions(defaultActions, lb.arn);
    this.listeners.set(listener.arn, listener);
    lb.listenerArns.push(listener.arn);
    this.createRule(listener, 'default', [], defaultActions, {});
    this.changed(false);
    return listener;
  }

  addTargetGroup(spec: TargetGroupSpec): TargetGroupRecord {
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(spec.name)) {
      throw new Error(`invalid target group name '${spec.name}'`);
    }
    if (this.targetGroupsByName.has(spec.name)) throw new Error(`duplicate target group name '${spec.name}'`);
    const id = this.settings.ids.hex(16, 'tg', spec.name);
    const record: TargetGroupRecord = {
      arn: this.arn(`targetgroup/${spec.name}/${id}`),
      name: spec.name,
      protocol: spec.protocol ?? 'HTTP',
      port: spec.port,
      vpcId: spec.vpcId ?? 'vpc-0a1b2c3d4e5f60718',
      targetType: spec.targetType ?? 'instance',
      healthCheck: { ...DEFAULT_HEALTH_CHECK, ...spec.healthCheck },
      tags: new Map(Object.entries(spec.tags ?? {})),
      targets: [],
    };
    this.targetGroups.set(record.arn, record);
    this.targetGroupsByName.set(record.name, record);
    return record;
  }

  addRule(listenerArn: string, spec: RuleSpec): RuleRecord {
    const listener = this.listeners.get(listenerArn);
    if (!listener) throw new Error(`no listener ${listenerArn}`);
    if (!Number.isInteger(spec.priority) || spec.priority < 1 || spec.priority > 50_000) {
      throw new Error(`invalid rule priority ${spec.priority}`);
    }
    for (const ruleArn of listener.ruleArns) {
      if (this.rules.get(ruleArn)?.priority === spec.priority)
        throw new Error(`priority ${spec.priority} in use`);
    }
    this.checkActions(spec.actions, listener.loadBalancerArn);
    const rule = this.createRule(listener, spec.priority, spec.conditions, spec.actions, spec.tags ?? {});
    this.changed(false);
    return rule;
  }

  /** Removes a rule (as the controller does when an Ingress path goes away); Describe* then reports RuleNotFound. */
  deleteRule(ruleArn: string): void {
    const rule = this.rules.get(ruleArn);
    if (!rule) throw new Error(`no rule ${ruleArn}`);
    if (rule.priority === 'default') throw new Error('the default rule goes with its listener');
    const listener = this.listeners.get(rule.listenerArn);
    if (listener) listener.ruleArns = listener.ruleArns.filter((arn) => arn !== ruleArn);
    this.rules.delete(ruleArn);
    this.rulesWithPending.delete(rule);
    this.changed(true);
  }

  tagResource(arn: string, tags: Record<string, string>): void {
    const tagMap = this.tagsOf(arn);
    if (!tagMap) throw new Error(`no resource ${arn}`);
    for (const [key, value] of Object.entries(tags)) tagMap.set(key, value);
  }

  private createRule(
    listener: ListenerRecord,
    priority: number | 'default',
    conditions: ConditionSpec[],
    actions: ActionSpec[],
    tags: Record<string, string>,
  ): RuleRecord {
    const lb = this.loadBalancers.get(listener.loadBalancerArn);
    if (!lb) throw new Error(`listener ${listener.arn} has no load balancer`);
    const listenerId = listener.arn.split('/').at(-1) ?? '';
    const id = this.settings.ids.hex(16, 'rule', listener.arn, String(priority));
    const rule: RuleRecord = {
      arn: this.arn(`listener-rule/app/${lb.name}/${lb.id}/${listenerId}/${id}`),
      listenerArn: listener.arn,
      priority,
      conditions: structuredClone(conditions),
      actions: structuredClone(actions),
      pending: [],
      tags: new Map(Object.entries(tags)),
    };
    this.rules.set(rule.arn, rule);
    listener.ruleArns.push(rule.arn);
    return rule;
  }

  // ---------------------------------------------------------------- time

  /**
   * Brings the account to the current time: modifications whose propagation delay has passed
   * become visible, target groups that come into use restart their targets' health checks,
   * drained targets leave. Every request and control call starts here.
   */
  settle(): void {
    const now = this.now;
    if (this.rulesWithPending.size > 0) {
      const due: Array<{ at: number; rule: RuleRecord; change: PendingRuleChange }> = [];
      for (const rule of this.rulesWithPending) {
        while (rule.pending[0] && rule.pending[0].applyAt <= now) {
          const change = rule.pending.shift();
          if (change) due.push({ at: change.applyAt, rule, change });
        }
        if (rule.pending.length === 0) this.rulesWithPending.delete(rule);
      }
      due.sort((a, b) => a.at - b.at);
      for (const { at, rule, change } of due) {
        if (change.actions) rule.actions = change.actions;
        if (change.conditions) rule.conditions = change.conditions;
        this.changed(true, at);
      }
    }
    for (const tg of this.targetGroups.values()) this.purgeDrained(tg, now);
  }

  /** Invalidates derived state; `restartHealth` when traffic changes should restart health checks of newly used groups. */
  private changed(restartHealth: boolean, at = this.now): void {
    this.usageCache = undefined;
    const used = new Set(this.usage().keys());
    if (restartHealth) {
      for (const arn of used) {
        if (this.usedSnapshot.has(arn)) continue;
        const tg = this.targetGroups.get(arn);
        for (const target of tg?.targets ?? []) {
          if (target.deregisteredAt !== undefined || target.pinned) continue;
          restartChecks(target, at);
        }
      }
    }
    this.usedSnapshot = used;
  }

  // ---------------------------------------------------------------- rules

  /** The actions the rule will have once every accepted change is visible. */
  desiredRule(rule: RuleRecord): { actions: ActionSpec[]; conditions: ConditionSpec[] } {
    let { actions, conditions } = rule;
    for (const change of rule.pending) {
      if (change.actions) actions = change.actions;
      if (change.conditions) conditions = change.conditions;
    }
    return { actions, conditions };
  }

  /** ModifyRule: validated now, visible to Describe* after the propagation delay. */
  modifyRule(ruleArn: string, change: { actions?: ActionSpec[]; conditions?: ConditionSpec[] }): RuleRecord {
    this.settle();
    const rule = this.rules.get(ruleArn);
    if (!rule) throw SimError.rulesNotFound([ruleArn]);
    const listener = this.listeners.get(rule.listenerArn);
    if (!listener) throw SimError.rulesNotFound([ruleArn]);
    if (change.actions) {
      if (change.actions.length === 0) throw SimError.validation('A rule must have at least one action');
      this.checkActions(change.actions, listener.loadBalancerArn);
    }
    if (change.conditions && rule.priority === 'default' && change.conditions.length > 0) {
      throw new SimError('OperationNotPermitted', 'The default rule cannot have conditions');
    }
    const pending: PendingRuleChange = { applyAt: this.now + this.settings.propagationDelayMs };
    if (change.actions) pending.actions = structuredClone(change.actions);
    if (change.conditions) pending.conditions = structuredClone(change.conditions);
    rule.pending.push(pending);
    this.rulesWithPending.add(rule);
    this.settle();
    return rule;
  }

  /** Rewrites the weights of a rule's forward action, as the controller does for Argo (ModifyRule semantics). */
  setRuleWeights(ruleArn: string, weights: Record<string, number>): RuleRecord {
    const rule = this.rules.get(ruleArn);
    if (!rule) throw new Error(`no rule ${ruleArn}`);
    const { actions } = this.desiredRule(rule);
    const forward = actions.find((action): action is ForwardActionSpec => action.type === 'forward');
    const stickiness = forward?.stickiness ?? { enabled: false };
    const order = forward?.order;
    const next: ForwardActionSpec = {
      type: 'forward',
      targetGroups: Object.entries(weights).map(([targetGroupArn, weight]) => ({ targetGroupArn, weight })),
      stickiness,
      ...(order === undefined ? {} : { order }),
    };
    return this.modifyRule(ruleArn, { actions: [next] });
  }

  private checkActions(actions: ActionSpec[], loadBalancerArn: string): void {
    const usage = this.usage();
    for (const action of actions) {
      if (action.type !== 'forward') continue;
      if (action.targetGroups.length === 0)
        throw SimError.validation('A forward action must have a target group');
      if (action.targetGroups.length > 5) {
        throw SimError.validation('A forward action can have at most 5 target groups');
      }
      const missing = action.targetGroups
        .map((tg) => tg.targetGroupArn)
        .filter((arn) => !this.targetGroups.has(arn));
      if (missing.length > 0) throw SimError.targetGroupsNotFound(missing);
      for (const { targetGroupArn, weight } of action.targetGroups) {
        if (!Number.isInteger(weight) || weight < 0 || weight > 999) {
          throw SimError.constraint(String(weight), 'weight', 'Member must have value between 0 and 999');
        }
        const others = [...(usage.get(targetGroupArn) ?? [])].filter((arn) => arn !== loadBalancerArn);
        if (others.length > 0) {
          throw new SimError(
            'TargetGroupAssociationLimit',
            `The following target groups cannot be associated with more than one load balancer: ${targetGroupArn}`,
          );
        }
      }
      const stickiness = action.stickiness;
      if (stickiness?.enabled && stickiness.durationSeconds !== undefined) {
        if (stickiness.durationSeconds < 1 || stickiness.durationSeconds > 604_800) {
          throw SimError.constraint(
            String(stickiness.durationSeconds),
            'durationSeconds',
            'Member must have value between 1 and 604800',
          );
        }
      }
    }
  }

  /** Rules of a listener in evaluation order: by priority, the default rule last. */
  rulesOf(listener: ListenerRecord): RuleRecord[] {
    return listener.ruleArns
      .map((arn) => this.rules.get(arn))
      .filter((rule): rule is RuleRecord => rule !== undefined)
      .sort((a, b) => rank(a.priority) - rank(b.priority));
  }

  defaultRuleOf(listener: ListenerRecord): RuleRecord {
    const rule = listener.ruleArns.map((arn) => this.rules.get(arn)).find((r) => r?.priority === 'default');
    if (!rule) throw new Error(`listener ${listener.arn} has no default rule`);
    return rule;
  }

  /** Target group ARN → load balancers whose visible rules (default rules included) forward to it. */
  usage(): Map<string, Set<string>> {
    if (this.usageCache) return this.usageCache;
    const usage = new Map<string, Set<string>>();
    for (const rule of this.rules.values()) {
      const listener = this.listeners.get(rule.listenerArn);
      if (!listener) continue;
      for (const action of rule.actions) {
        if (action.type !== 'forward') continue;
        for (const { targetGroupArn } of action.targetGroups) {
          let lbs = usage.get(targetGroupArn);
          if (!lbs) {
            lbs = new Set();
            usage.set(targetGroupArn, lbs);
          }
          lbs.add(listener.loadBalancerArn);
        }
      }
    }
    this.usageCache = usage;
    return usage;
  }

  // ---------------------------------------------------------------- lookups

  loadBalancerByName(name: string): LoadBalancerRecord | undefined {
    return this.loadBalancersByName.get(name);
  }

  targetGroupByName(name: string): TargetGroupRecord | undefined {
    return this.targetGroupsByName.get(name);
  }

  tagsOf(arn: string): Map<string, string> | undefined {
    return (
      this.loadBalancers.get(arn)?.tags ??
      this.targetGroups.get(arn)?.tags ??
      this.listeners.get(arn)?.tags ??
      this.rules.get(arn)?.tags
    );
  }

  requireTargetGroup(arn: string): TargetGroupRecord {
    const tg = this.targetGroups.get(arn);
    if (!tg) throw SimError.targetGroupsNotFound([arn]);
    return tg;
  }

  // ---------------------------------------------------------------- targets and health

  registerTargets(targetGroupArn: string, targets: TargetSpec[], options: { healthy?: boolean } = {}): void {
    this.settle();
    const tg = this.requireTargetGroup(targetGroupArn);
    const now = this.now;
    for (const spec of targets) {
      if (!spec.id) throw SimError.validation('A target must have an Id');
      const port = spec.port ?? tg.port;
      if (!Number.isInteger(port) || port < 1 || port > 65_535) {
        throw SimError.constraint(String(port), 'port', 'Member must have value between 1 and 65535');
      }
      let target = tg.targets.find((t) => t.id === spec.id && t.port === port);
      if (target && target.deregisteredAt === undefined && !options.healthy) continue;
      if (!target) {
        target = { id: spec.id, port, state: 'initial', checks: 0, streak: 0, lastCheckAt: now };
        const zone = spec.availabilityZone ?? (tg.targetType === 'ip' ? this.zoneForIp(spec.id) : undefined);
        if (zone) target.availabilityZone = zone;
        tg.targets.push(target);
      }
      restartChecks(target, now);
      if (options.healthy) {
        delete target.failing;
        delete target.failingCode;
        target.state = 'healthy';
        target.checks = tg.healthCheck.healthyThreshold;
        target.streak = tg.healthCheck.healthyThreshold;
      }
    }
  }

  deregisterTargets(targetGroupArn: string, targets: TargetSpec[]): void {
    this.settle();
    const tg = this.requireTargetGroup(targetGroupArn);
    const now = this.now;
    const found: TargetRecord[] = [];
    const missing: string[] = [];
    for (const spec of targets) {
      const port = spec.port ?? tg.port;
      const target = tg.targets.find((t) => t.id === spec.id && t.port === port);
      if (target) found.push(target);
      else missing.push(spec.id);
    }
    if (missing.length > 0) {
      throw new SimError(
        'InvalidTarget',
        `The following targets are not registered in target group '${tg.arn}': '${missing.join("', '")}'`,
      );
    }
    for (const target of found) {
      if (target.deregisteredAt !== undefined) continue;
      delete target.pinned;
      target.deregisteredAt = now;
    }
    this.purgeDrained(tg, now);
  }

  /** Forces a state; `healthy`/`unhealthy`/`initial` also set the health-check state machine so it carries on from there. */
  setTargetHealth(
    targetGroupArn: string,
    id: string,
    state: TargetHealthStateName,
    options: { port?: number; reason?: TargetHealthReason; description?: string } = {},
  ): void {
    this.settle();
    const tg = this.requireTargetGroup(targetGroupArn);
    const target = this.findTarget(tg, id, options.port);
    const now = this.now;
    this.syncTarget(tg, target, now);
    delete target.pinned;
    switch (state) {
      case 'healthy':
        delete target.failing;
        target.state = 'healthy';
        target.streak = tg.healthCheck.healthyThreshold;
        target.checks = Math.max(target.checks, target.streak);
        break;
      case 'unhealthy': {
        const reason = (options.reason ?? 'Target.FailedHealthChecks') as UnhealthyReason;
        delete target.failingCode;
        target.failing = reason;
        target.lastFailure = { reason };
        target.state = 'unhealthy';
        target.streak = tg.healthCheck.unhealthyThreshold;
        target.checks = Math.max(target.checks, target.streak);
        if (options.description) target.pinned = { state, reason, description: options.description };
        break;
      }
      case 'initial':
        delete target.failing;
        restartChecks(target, now);
        break;
      case 'draining':
        target.deregisteredAt = now;
        break;
      default:
        target.pinned = { state, ...options };
    }
    target.lastCheckAt = now;
  }

  /** From now on the target fails its health checks; it turns `unhealthy` after the unhealthy threshold. */
  failHealthChecks(
    targetGroupArn: string,
    id: string,
    reason: UnhealthyReason,
    code?: string,
    port?: number,
  ): void {
    this.settle();
    const tg = this.requireTargetGroup(targetGroupArn);
    const target = this.findTarget(tg, id, port);
    this.syncTarget(tg, target, this.now);
    delete target.pinned;
    target.failing = reason;
    if (code) target.failingCode = code;
    else delete target.failingCode;
    target.streak = 0;
  }

  /** From now on the target passes its health checks; it turns `healthy` after the healthy threshold. */
  passHealthChecks(targetGroupArn: string, id: string, port?: number): void {
    this.settle();
    const tg = this.requireTargetGroup(targetGroupArn);
    const target = this.findTarget(tg, id, port);
    this.syncTarget(tg, target, this.now);
    delete target.pinned;
    if (target.failing === undefined) return;
    delete target.failing;
    delete target.failingCode;
    target.streak = 0;
  }

  private findTarget(tg: TargetGroupRecord, id: string, port?: number): TargetRecord {
    const target = tg.targets.find((t) => t.id === id && (port === undefined || t.port === port));
    if (!target) throw new Error(`target ${id}${port ? `:${port}` : ''} is not registered in ${tg.arn}`);
    return target;
  }

  /** Runs the health checks due since the last look; outcomes are constant between control calls, so this is O(1). */
  private syncTarget(tg: TargetGroupRecord, target: TargetRecord, now: number): void {
    if (target.pinned || target.deregisteredAt !== undefined) return;
    if (!this.usedSnapshot.has(tg.arn)) {
      // no load balancer sends health checks to a group nothing forwards to
      target.lastCheckAt = Math.max(target.lastCheckAt, now);
      return;
    }
    const interval = Math.max(1, this.settings.healthCheckIntervalMs);
    const due = Math.floor((now - target.lastCheckAt) / interval);
    if (due <= 0) return;
    target.lastCheckAt += due * interval;
    target.checks += due;
    target.streak += due;
    if (target.failing) {
      if (target.state !== 'unhealthy' && target.streak >= tg.healthCheck.unhealthyThreshold) {
        target.state = 'unhealthy';
      }
      if (target.state === 'unhealthy') {
        target.lastFailure = {
          reason: target.failing,
          ...(target.failingCode ? { code: target.failingCode } : {}),
        };
      }
    } else if (target.state !== 'healthy' && target.streak >= tg.healthCheck.healthyThreshold) {
      target.state = 'healthy';
    }
  }

  /** The state DescribeTargetHealth reports for a registered target now. */
  reportHealth(tg: TargetGroupRecord, target: TargetRecord): ReportedHealth {
    const now = this.now;
    this.syncTarget(tg, target, now);
    if (target.pinned) return { ...target.pinned };
    if (target.deregisteredAt !== undefined) return { state: 'draining', ...HEALTH_TEXT.draining };
    if (!this.usedSnapshot.has(tg.arn)) return { state: 'unused', ...HEALTH_TEXT.notInUse };
    switch (target.state) {
      case 'healthy':
        return { state: 'healthy' };
      case 'unhealthy': {
        const failure = target.lastFailure ?? { reason: 'Target.FailedHealthChecks' as const };
        return {
          state: 'unhealthy',
          reason: failure.reason,
          description: unhealthyDescription(failure.reason, failure.code),
        };
      }
      default:
        return target.checks === 0
          ? { state: 'initial', ...HEALTH_TEXT.registering }
          : { state: 'initial', ...HEALTH_TEXT.initialChecks };
    }
  }

  notRegisteredHealth(): ReportedHealth {
    return { state: 'unused', ...HEALTH_TEXT.notRegistered };
  }

  private purgeDrained(tg: TargetGroupRecord, now: number): void {
    if (!tg.targets.some((t) => t.deregisteredAt !== undefined)) return;
    tg.targets = tg.targets.filter(
      (t) => t.deregisteredAt === undefined || now < t.deregisteredAt + this.settings.deregistrationDelayMs,
    );
  }

  private zoneForIp(ip: string): string {
    const octets = ip.split('.');
    const third = Number(octets[2] ?? 0);
    return `${this.settings.region}${'abc'[Number.isFinite(third) ? third % 3 : 0]}`;
  }
}

function rank(priority: number | 'default'): number {
  return priority === 'default' ? Number.POSITIVE_INFINITY : priority;
}

function restartChecks(target: TargetRecord, at: number): void {
  delete target.deregisteredAt;
  delete target.pinned;
  delete target.lastFailure;
  target.state = 'initial';
  target.checks = 0;
  target.streak = 0;
  target.lastCheckAt = at;
}
