import type {
  Action,
  DeregisterTargetsOutput,
  DescribeListenersOutput,
  DescribeLoadBalancersOutput,
  DescribeRulesOutput,
  DescribeTagsOutput,
  DescribeTargetGroupsOutput,
  DescribeTargetHealthOutput,
  Listener,
  LoadBalancer,
  ModifyRuleOutput,
  RegisterTargetsOutput,
  Rule,
  RuleCondition,
  TagDescription,
  TargetGroup,
  TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { SimError } from './errors.js';
import type {
  ActionSpec,
  ConditionSpec,
  ElbAccount,
  ListenerRecord,
  LoadBalancerRecord,
  ReportedHealth,
  RuleRecord,
  TargetGroupRecord,
  TargetSpec,
} from './model.js';
import type { QueryParams } from './params.js';

/**
 * The ELBv2 actions the simulator answers, each turning request parameters into the result
 * structure of the API reference (typed as the SDK's output shapes, so a misspelt member does
 * not compile). The XML envelope is added by the server.
 */

export const SUPPORTED_ACTIONS = [
  'DescribeLoadBalancers',
  'DescribeListeners',
  'DescribeRules',
  'DescribeTargetGroups',
  'DescribeTags',
  'DescribeTargetHealth',
  'ModifyRule',
  'RegisterTargets',
  'DeregisterTargets',
] as const;
export type SimAction = (typeof SUPPORTED_ACTIONS)[number];

export function isSupportedAction(action: string): action is SimAction {
  return (SUPPORTED_ACTIONS as readonly string[]).includes(action);
}

/** Describe* share the account's read budget; mutations have buckets of their own. */
export function isDescribeAction(action: string): boolean {
  return action.startsWith('Describe');
}

type Result<A extends SimAction> = A extends 'DescribeLoadBalancers'
  ? DescribeLoadBalancersOutput
  : A extends 'DescribeListeners'
    ? DescribeListenersOutput
    : A extends 'DescribeRules'
      ? DescribeRulesOutput
      : A extends 'DescribeTargetGroups'
        ? DescribeTargetGroupsOutput
        : A extends 'DescribeTags'
          ? DescribeTagsOutput
          : A extends 'DescribeTargetHealth'
            ? DescribeTargetHealthOutput
            : A extends 'ModifyRule'
              ? ModifyRuleOutput
              : A extends 'RegisterTargets'
                ? RegisterTargetsOutput
                : DeregisterTargetsOutput;

type Handler<A extends SimAction> = (account: ElbAccount, params: QueryParams) => Result<A>;

export const HANDLERS: { [A in SimAction]: Handler<A> } = {
  DescribeLoadBalancers(account, params) {
    const names = params.list('Names');
    const arns = params.list('LoadBalancerArns');
    if (names.length > 0 && arns.length > 0) {
      throw SimError.validation(
        'Load balancer names and load balancer ARNs cannot be specified at the same time',
      );
    }
    if (arns.length > 20) {
      throw SimError.constraint(
        `[${arns.join(', ')}]`,
        'loadBalancerArns',
        'Member must have length less than or equal to 20',
      );
    }
    let selected: LoadBalancerRecord[];
    if (arns.length > 0)
      selected = pick(arns, (arn) => account.loadBalancers.get(arn), SimError.loadBalancersNotFound);
    else if (names.length > 0) {
      selected = pick(names, (name) => account.loadBalancerByName(name), SimError.loadBalancersNotFound);
    } else selected = [...account.loadBalancers.values()];
    const { items, nextMarker } = page('DescribeLoadBalancers', selected, params);
    return { LoadBalancers: items.map((lb) => loadBalancerShape(account, lb)), NextMarker: nextMarker };
  },

  DescribeListeners(account, params) {
    const lbArn = params.get('LoadBalancerArn');
    const arns = params.list('ListenerArns');
    if (lbArn && arns.length > 0) {
      throw SimError.validation('Listener ARNs and a load balancer ARN cannot be specified at the same time');
    }
    let selected: ListenerRecord[];
    if (arns.length > 0)
      selected = pick(arns, (arn) => account.listeners.get(arn), SimError.listenersNotFound);
    else if (lbArn) {
      const lb = account.loadBalancers.get(lbArn);
      if (!lb) throw SimError.loadBalancersNotFound([lbArn]);
      selected = lb.listenerArns.map((arn) => account.listeners.get(arn)).filter(defined);
    } else throw SimError.validation('You must specify either listener ARNs or a load balancer ARN');
    const { items, nextMarker } = page('DescribeListeners', selected, params);
    return { Listeners: items.map((listener) => listenerShape(account, listener)), NextMarker: nextMarker };
  },

  DescribeRules(account, params) {
    const listenerArn = params.get('ListenerArn');
    const arns = params.list('RuleArns');
    if (listenerArn && arns.length > 0) {
      throw SimError.validation('Rule ARNs and a listener ARN cannot be specified at the same time');
    }
    let selected: RuleRecord[];
    if (arns.length > 0) selected = pick(arns, (arn) => account.rules.get(arn), SimError.rulesNotFound);
    else if (listenerArn) {
      const listener = account.listeners.get(listenerArn);
      if (!listener) throw SimError.listenersNotFound([listenerArn]);
      selected = account.rulesOf(listener);
    } else throw SimError.validation('You must specify either rule ARNs or a listener ARN');
    const { items, nextMarker } = page('DescribeRules', selected, params);
    return {
      Rules: items.map((rule) => ruleShape(rule, rule.actions, rule.conditions)),
      NextMarker: nextMarker,
    };
  },

  DescribeTargetGroups(account, params) {
    const lbArn = params.get('LoadBalancerArn');
    const arns = params.list('TargetGroupArns');
    const names = params.list('Names');
    if ([lbArn ? 1 : 0, arns.length, names.length].filter((n) => n > 0).length > 1) {
      throw SimError.validation(
        'Specify only one of load balancer ARN, target group ARNs or target group names',
      );
    }
    let selected: TargetGroupRecord[];
    if (arns.length > 0)
      selected = pick(arns, (arn) => account.targetGroups.get(arn), SimError.targetGroupsNotFound);
    else if (names.length > 0) {
      selected = pick(names, (name) => account.targetGroupByName(name), SimError.targetGroupsNotFound);
    } else if (lbArn) {
      if (!account.loadBalancers.has(lbArn)) throw SimError.loadBalancersNotFound([lbArn]);
      const usage = account.usage();
      selected = [...account.targetGroups.values()].filter((tg) => usage.get(tg.arn)?.has(lbArn));
    } else selected = [...account.targetGroups.values()];
    const { items, nextMarker } = page('DescribeTargetGroups', selected, params);
    return { TargetGroups: items.map((tg) => targetGroupShape(account, tg)), NextMarker: nextMarker };
  },

  DescribeTags(account, params) {
    const arns = params.list('ResourceArns');
    if (arns.length === 0) {
      throw SimError.constraint('[]', 'resourceArns', 'Member must have length greater than or equal to 1');
    }
    if (arns.length > 20) {
      throw SimError.constraint(
        `[${arns.join(', ')}]`,
        'resourceArns',
        'Member must have length less than or equal to 20',
      );
    }
    const descriptions: TagDescription[] = arns.map((arn) => {
      const tags = account.tagsOf(arn);
      if (!tags) throw notFoundFor(arn);
      return { ResourceArn: arn, Tags: [...tags].map(([Key, Value]) => ({ Key, Value })) };
    });
    return { TagDescriptions: descriptions };
  },

  DescribeTargetHealth(account, params) {
    const tg = account.requireTargetGroup(params.require('TargetGroupArn'));
    const asked = parseTargets(params, 'Targets');
    const descriptions: TargetHealthDescription[] = [];
    if (asked.length === 0) {
      for (const target of tg.targets) {
        descriptions.push(
          healthShape(tg, target.id, target.port, target.availabilityZone, account.reportHealth(tg, target)),
        );
      }
    } else {
      for (const spec of asked) {
        const port = spec.port ?? tg.port;
        const target = tg.targets.find((t) => t.id === spec.id && t.port === port);
        const health = target ? account.reportHealth(tg, target) : account.notRegisteredHealth();
        descriptions.push(
          healthShape(tg, spec.id, port, target?.availabilityZone ?? spec.availabilityZone, health),
        );
      }
    }
    return { TargetHealthDescriptions: descriptions };
  },

  ModifyRule(account, params) {
    const ruleArn = params.require('RuleArn');
    const change: { actions?: ActionSpec[]; conditions?: ConditionSpec[] } = {};
    if (params.has('Actions')) change.actions = parseActions(params);
    if (params.has('Conditions')) change.conditions = parseConditions(params);
    const rule = account.modifyRule(ruleArn, change);
    const desired = account.desiredRule(rule);
    return { Rules: [ruleShape(rule, desired.actions, desired.conditions)] };
  },

  RegisterTargets(account, params) {
    const tgArn = params.require('TargetGroupArn');
    const targets = parseTargets(params, 'Targets');
    if (targets.length === 0) {
      throw SimError.constraint('[]', 'targets', 'Member must have length greater than or equal to 1');
    }
    account.registerTargets(tgArn, targets);
    return {};
  },

  DeregisterTargets(account, params) {
    const tgArn = params.require('TargetGroupArn');
    const targets = parseTargets(params, 'Targets');
    if (targets.length === 0) {
      throw SimError.constraint('[]', 'targets', 'Member must have length greater than or equal to 1');
    }
    account.deregisterTargets(tgArn, targets);
    return {};
  },
};

// ------------------------------------------------------------------ output shapes

function loadBalancerShape(account: ElbAccount, lb: LoadBalancerRecord): LoadBalancer {
  return {
    LoadBalancerArn: lb.arn,
    DNSName: lb.dnsName,
    CanonicalHostedZoneId: account.canonicalHostedZoneId,
    CreatedTime: lb.createdTime,
    LoadBalancerName: lb.name,
    Scheme: lb.scheme,
    VpcId: lb.vpcId,
    State: { Code: 'active' },
    Type: 'application',
    AvailabilityZones: lb.availabilityZones.map((az) => ({ ZoneName: az.zoneName, SubnetId: az.subnetId })),
    SecurityGroups: lb.securityGroups,
    IpAddressType: 'ipv4',
  };
}

function listenerShape(account: ElbAccount, listener: ListenerRecord): Listener {
  const defaultRule = account.defaultRuleOf(listener);
  return {
    ListenerArn: listener.arn,
    LoadBalancerArn: listener.loadBalancerArn,
    Port: listener.port,
    Protocol: listener.protocol,
    Certificates: listener.certificateArn ? [{ CertificateArn: listener.certificateArn }] : undefined,
    SslPolicy: listener.sslPolicy,
    DefaultActions: defaultRule.actions.map(actionShape),
  };
}

/** What DescribeRules returns for a forward action today: the ARN only when there is one group, always a ForwardConfig. */
function actionShape(action: ActionSpec, index: number): Action {
  const order = action.order ?? index + 1;
  if (action.type === 'forward') {
    const only = action.targetGroups.length === 1 ? action.targetGroups[0] : undefined;
    return {
      Type: 'forward',
      TargetGroupArn: only?.targetGroupArn,
      Order: order,
      ForwardConfig: {
        TargetGroups: action.targetGroups.map((tg) => ({
          TargetGroupArn: tg.targetGroupArn,
          Weight: tg.weight,
        })),
        TargetGroupStickinessConfig: {
          Enabled: action.stickiness?.enabled ?? false,
          DurationSeconds: action.stickiness?.enabled ? action.stickiness.durationSeconds : undefined,
        },
      },
    };
  }
  return {
    Type: 'fixed-response',
    Order: order,
    FixedResponseConfig: {
      StatusCode: action.statusCode,
      ContentType: action.contentType,
      MessageBody: action.messageBody,
    },
  };
}

function conditionShape(condition: ConditionSpec): RuleCondition {
  const config = { Values: condition.values };
  return condition.field === 'host-header'
    ? { Field: condition.field, Values: condition.values, HostHeaderConfig: config }
    : { Field: condition.field, Values: condition.values, PathPatternConfig: config };
}

function ruleShape(rule: RuleRecord, actions: ActionSpec[], conditions: ConditionSpec[]): Rule {
  return {
    RuleArn: rule.arn,
    Priority: String(rule.priority),
    Conditions: conditions.map(conditionShape),
    Actions: actions.map(actionShape),
    IsDefault: rule.priority === 'default',
  };
}

function targetGroupShape(account: ElbAccount, tg: TargetGroupRecord): TargetGroup {
  const hc = tg.healthCheck;
  return {
    TargetGroupArn: tg.arn,
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    VpcId: tg.vpcId,
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: hc.port,
    HealthCheckEnabled: hc.enabled,
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
    HealthCheckPath: hc.path,
    Matcher: { HttpCode: hc.matcher },
    LoadBalancerArns: [...(account.usage().get(tg.arn) ?? [])],
    TargetType: tg.targetType,
    ProtocolVersion: 'HTTP1',
    IpAddressType: 'ipv4',
  };
}

function healthShape(
  tg: TargetGroupRecord,
  id: string,
  port: number,
  availabilityZone: string | undefined,
  health: ReportedHealth,
): TargetHealthDescription {
  return {
    Target: { Id: id, Port: port, AvailabilityZone: availabilityZone },
    HealthCheckPort: tg.healthCheck.port === 'traffic-port' ? String(port) : tg.healthCheck.port,
    TargetHealth: {
      State: health.state,
      Reason: health.reason,
      Description: health.description,
    },
  };
}

// ------------------------------------------------------------------ request parsing

function parseTargets(params: QueryParams, name: string): TargetSpec[] {
  return params.structs(name).map((member) => {
    const spec: TargetSpec = { id: member.require('Id') };
    const port = member.int('Port');
    if (port !== undefined) spec.port = port;
    const zone = member.get('AvailabilityZone');
    if (zone) spec.availabilityZone = zone;
    return spec;
  });
}

function parseActions(params: QueryParams): ActionSpec[] {
  return params.structs('Actions').map((member) => {
    const type = member.require('Type');
    const order = member.int('Order');
    const withOrder = order === undefined ? {} : { order };
    if (type === 'forward') {
      const arn = member.get('TargetGroupArn');
      const forward = member.child('ForwardConfig');
      const tuples = forward.structs('TargetGroups').map((tuple) => ({
        targetGroupArn: tuple.require('TargetGroupArn'),
        weight: tuple.int('Weight') ?? 1,
      }));
      if (arn && tuples.length > 0 && (tuples.length !== 1 || tuples[0]?.targetGroupArn !== arn)) {
        throw SimError.validation(
          'You cannot specify a target group ARN and a forward config with different or multiple target groups',
        );
      }
      const targetGroups = tuples.length > 0 ? tuples : arn ? [{ targetGroupArn: arn, weight: 1 }] : [];
      if (targetGroups.length === 0)
        throw SimError.validation('A forward action must specify a target group');
      const sticky = forward.child('TargetGroupStickinessConfig');
      const durationSeconds = sticky.int('DurationSeconds');
      return {
        type: 'forward',
        targetGroups,
        stickiness: {
          enabled: sticky.bool('Enabled') ?? false,
          ...(durationSeconds === undefined ? {} : { durationSeconds }),
        },
        ...withOrder,
      } satisfies ActionSpec;
    }
    if (type === 'fixed-response') {
      const config = member.child('FixedResponseConfig');
      const contentType = config.get('ContentType');
      const messageBody = config.get('MessageBody');
      return {
        type: 'fixed-response',
        statusCode: config.require('StatusCode'),
        ...(contentType === undefined ? {} : { contentType }),
        ...(messageBody === undefined ? {} : { messageBody }),
        ...withOrder,
      } satisfies ActionSpec;
    }
    throw SimError.validation(`Action type '${type}' is not supported by the ELBv2 simulator`);
  });
}

function parseConditions(params: QueryParams): ConditionSpec[] {
  return params.structs('Conditions').map((member) => {
    const field = member.require('Field');
    if (field !== 'host-header' && field !== 'path-pattern') {
      throw SimError.validation(`Condition field '${field}' is not supported by the ELBv2 simulator`);
    }
    const config = member.child(field === 'host-header' ? 'HostHeaderConfig' : 'PathPatternConfig');
    const values = [...member.list('Values'), ...config.list('Values')];
    if (values.length === 0) throw SimError.validation(`A '${field}' condition must have values`);
    return { field, values: [...new Set(values)] };
  });
}

// ------------------------------------------------------------------ helpers

/** Looks every identifier up; if any is missing the whole call fails with the missing ones named. */
function pick<T>(
  keys: string[],
  find: (key: string) => T | undefined,
  notFound: (missing: string[]) => SimError,
): T[] {
  const found: T[] = [];
  const missing: string[] = [];
  for (const key of keys) {
    const value = find(key);
    if (value === undefined) missing.push(key);
    else if (!found.includes(value)) found.push(value);
  }
  if (missing.length > 0) throw notFound(missing);
  return found;
}

function notFoundFor(arn: string): SimError {
  if (arn.includes(':loadbalancer/')) return SimError.loadBalancersNotFound([arn]);
  if (arn.includes(':targetgroup/')) return SimError.targetGroupsNotFound([arn]);
  if (arn.includes(':listener-rule/')) return SimError.rulesNotFound([arn]);
  if (arn.includes(':listener/')) return SimError.listenersNotFound([arn]);
  return SimError.validation(`'${arn}' must be in ARN format`);
}

const MAX_PAGE = 400;

/** Marker paging as the Describe* calls do it: PageSize 1–400 (default 400), an opaque NextMarker while more remain. */
function page<T>(
  action: string,
  items: T[],
  params: QueryParams,
): { items: T[]; nextMarker: string | undefined } {
  const size = params.int('PageSize') ?? MAX_PAGE;
  if (size < 1)
    throw SimError.constraint(String(size), 'pageSize', 'Member must have value greater than or equal to 1');
  if (size > MAX_PAGE) {
    throw SimError.constraint(
      String(size),
      'pageSize',
      `Member must have value less than or equal to ${MAX_PAGE}`,
    );
  }
  const marker = params.get('Marker');
  let offset = 0;
  if (marker) {
    const decoded = decodeMarker(marker);
    if (!decoded || decoded.action !== action) throw SimError.validation('The marker is not valid');
    offset = decoded.offset;
  }
  const slice = items.slice(offset, offset + size);
  const next = offset + size;
  return { items: slice, nextMarker: next < items.length ? encodeMarker(action, next) : undefined };
}

function encodeMarker(action: string, offset: number): string {
  return Buffer.from(JSON.stringify({ a: action, o: offset })).toString('base64');
}

function decodeMarker(marker: string): { action: string; offset: number } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(marker, 'base64').toString('utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const { a, o } = value as { a?: unknown; o?: unknown };
    if (typeof a !== 'string' || typeof o !== 'number' || !Number.isInteger(o) || o < 0) return undefined;
    return { action: a, offset: o };
  } catch {
    return undefined;
  }
}

function defined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
