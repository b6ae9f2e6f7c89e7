import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { listenOnLoopback } from '../loopback-server.js';
import { IdSource, type Now } from './clock.js';
import { SimError } from './errors.js';
import { HANDLERS, isDescribeAction, isSupportedAction, type SimAction } from './handlers.js';
import {
  addIngressAlb,
  addUnrelatedLoadBalancers,
  type IngressAlb,
  type IngressAlbSpec,
  type UnrelatedLoadBalancersOptions,
} from './ingress.js';
import {
  type ActionSpec,
  type ConditionSpec,
  ElbAccount,
  type ListenerSpec,
  type LoadBalancerSpec,
  type RuleSpec,
  type TargetGroupSpec,
  type TargetGroupWeight,
  type TargetHealthReason,
  type TargetHealthStateName,
  type TargetSpec,
  type UnhealthyReason,
} from './model.js';
import { QueryParams } from './params.js';
import { queryErrorResponse, queryResponse } from './xml.js';

export interface RateLimit {
  /** Bucket size: Describe* calls allowed in a burst (AWS: 40). */
  burst: number;
  /** Tokens added back per second (AWS: 10). */
  refillPerSecond: number;
}

export interface Elbv2SimOptions {
  region?: string;
  accountId?: string;
  /** The clock every timed behaviour reads (ms). Default `Date.now`; see `createManualClock`. */
  now?: Now;
  /** The shared Describe* budget; `false` disables throttling. Default `{ burst: 40, refillPerSecond: 10 }`. */
  rateLimit?: RateLimit | false;
  /** Delay before an accepted ModifyRule shows in Describe*. Default 0. */
  propagationDelayMs?: number;
  /** Simulated time between two health checks of a target. Default 10 ms. */
  healthCheckIntervalMs?: number;
  /** How long a deregistered target stays `draining`. Default 50 ms. */
  deregistrationDelayMs?: number;
  /** Added to every request before it is answered (real time, not the injected clock). Default 0. */
  latencyMs?: number;
  /** Actions answered with AccessDenied (403). */
  deniedActions?: readonly string[];
  /** The principal AccessDenied messages name. */
  principalArn?: string;
  /** Seed of the deterministic ids in ARNs and DNS names. */
  seed?: string;
}

export interface InjectedError {
  code: string;
  message?: string;
  /** Default 400. */
  status?: number;
  /** How many requests fail (default: every request until cleared). */
  times?: number;
}

export interface SimStats {
  calls: Record<string, number>;
  throttled: Record<string, number>;
  throttledTotal: number;
  /** The most requests (any action) within one second of the simulator clock. */
  peakCallsPerSecond: number;
}

export interface Elbv2Sim {
  /** `http://127.0.0.1:<port>`: pass as the SDK client's `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly accountId: string;
  /** The in-memory account, for inspection and anything the helpers below do not cover. */
  readonly account: ElbAccount;

  // seeding
  addIngressAlb(spec: IngressAlbSpec): IngressAlb;
  addUnrelatedLoadBalancers(count: number, options?: UnrelatedLoadBalancersOptions): string[];
  addLoadBalancer(spec: LoadBalancerSpec): string;
  addListener(loadBalancerArn: string, spec: ListenerSpec): string;
  addTargetGroup(spec: TargetGroupSpec): string;
  addRule(listenerArn: string, spec: RuleSpec): string;
  deleteRule(ruleArn: string): void;
  tagResource(arn: string, tags: Record<string, string>): void;

  // rules
  /** ModifyRule in-process (e.g. the controller applying Argo's weights), subject to the propagation delay. */
  setRuleWeights(ruleArn: string, weights: Record<string, number>): void;
  modifyRule(ruleArn: string, change: { actions?: ActionSpec[]; conditions?: ConditionSpec[] }): void;
  /** Target group ARN → weight of the rule's forward action: what Describe* shows now (`visible`) or once propagated. */
  ruleWeights(ruleArn: string, which?: 'visible' | 'desired'): Record<string, number>;
  setPropagationDelay(ms: number): void;

  // targets
  registerTargets(targetGroupArn: string, targets: TargetSpec[]): void;
  /** Registers `count` targets (or the given ids) that are healthy at once; returns their ids. */
  registerHealthyTargets(targetGroupArn: string, countOrIds: number | string[], port?: number): string[];
  deregisterTargets(targetGroupArn: string, targets: TargetSpec[]): void;
  setTargetHealth(
    targetGroupArn: string,
    id: string,
    state: TargetHealthStateName,
    options?: { port?: number; reason?: TargetHealthReason; description?: string },
  ): void;
  /** The target starts failing health checks and turns unhealthy after the group's unhealthy threshold. */
  failHealthChecks(targetGroupArn: string, id: string, reason?: UnhealthyReason, code?: string): void;
  /** The target passes health checks again and turns healthy after the group's healthy threshold. */
  passHealthChecks(targetGroupArn: string, id: string): void;

  // failure injection
  denyAction(action: string, principalArn?: string): void;
  allowAction(action: string): void;
  injectError(action: string, error: InjectedError): void;
  clearInjectedErrors(): void;
  setLatency(ms: number): void;
  setRateLimit(limit: RateLimit | false): void;
  /** Tokens left in the Describe* bucket now. */
  tokens(): number;

  // counters
  calls(): Record<string, number>;
  resetCalls(): void;
  throttledCalls(): number;
  stats(): SimStats;

  close(): Promise<void>;
}

/** The ELBv2 Describe* budget: a token bucket on the simulator clock. */
class TokenBucket {
  private level: number;
  private updatedAt: number;

  constructor(
    private limit: RateLimit,
    private readonly now: Now,
  ) {
    this.level = limit.burst;
    this.updatedAt = now();
  }

  reset(limit: RateLimit): void {
    this.limit = limit;
    this.level = limit.burst;
    this.updatedAt = this.now();
  }

  available(): number {
    const now = this.now();
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.level = Math.min(this.limit.burst, this.level + elapsed * this.limit.refillPerSecond);
    this.updatedAt = now;
    return this.level;
  }

  take(): boolean {
    if (this.available() < 1) return false;
    this.level -= 1;
    return true;
  }
}

const DEFAULT_RATE_LIMIT: RateLimit = { burst: 40, refillPerSecond: 10 };

/** Starts the ELBv2 simulator on 127.0.0.1 with an ephemeral port. It never keeps the process alive by itself. */
export async function startElbv2Sim(options: Elbv2SimOptions = {}): Promise<Elbv2Sim> {
  const now = options.now ?? Date.now;
  const region = options.region ?? 'eu-west-1';
  const accountId = options.accountId ?? '123456789012';
  const account = new ElbAccount({
    region,
    accountId,
    now,
    ids: new IdSource(options.seed ?? 'elbv2-sim'),
    healthCheckIntervalMs: options.healthCheckIntervalMs ?? 10,
    deregistrationDelayMs: options.deregistrationDelayMs ?? 50,
    propagationDelayMs: options.propagationDelayMs ?? 0,
  });

  let bucket =
    options.rateLimit === false ? undefined : new TokenBucket(options.rateLimit ?? DEFAULT_RATE_LIMIT, now);
  let latencyMs = options.latencyMs ?? 0;
  const defaultPrincipal = options.principalArn ?? `arn:aws:sts::${accountId}:assumed-role/verify/fn`;
  const denied = new Map<string, string>(
    (options.deniedActions ?? []).map((action) => [action, defaultPrincipal]),
  );
  const injected = new Map<string, InjectedError & { remaining: number }>();
  let calls = new Map<string, number>();
  let throttled = new Map<string, number>();
  let currentSecond = Number.NaN;
  let callsThisSecond = 0;
  let peakPerSecond = 0;

  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    const send = (status: number, body: string) => {
      res.writeHead(status, {
        'Content-Type': 'text/xml',
        'Content-Length': Buffer.byteLength(body),
        'x-amzn-RequestId': requestId,
      });
      res.end(body);
    };
    const fail = (error: SimError) =>
      send(error.status, queryErrorResponse(error.type, error.code, error.message, requestId));
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = Buffer.concat(chunks).toString('utf8');
      const params = QueryParams.fromForm(req.method === 'POST' ? body : url.search.slice(1));
      const action = params.get('Action') ?? '';
      if (latencyMs > 0) await sleep(latencyMs);

      count(calls, action);
      const second = Math.floor(now() / 1000);
      if (second !== currentSecond) {
        currentSecond = second;
        callsThisSecond = 0;
      }
      peakPerSecond = Math.max(peakPerSecond, ++callsThisSecond);

      if (req.method !== 'POST' && req.method !== 'GET') throw new SimError('InvalidAction', 'Use POST', 400);
      if (!isSupportedAction(action)) throw SimError.invalidAction(action);
      const principal = denied.get(action);
      if (principal) throw SimError.accessDenied(principal, action);
      const injection = injected.get(action);
      if (injection) {
        if (--injection.remaining <= 0) injected.delete(action);
        throw new SimError(injection.code, injection.message ?? injection.code, injection.status ?? 400);
      }
      if (isDescribeAction(action) && bucket && !bucket.take()) {
        count(throttled, action);
        throw SimError.throttling();
      }
      account.settle();
      const result = HANDLERS[action as SimAction](account, params);
      send(200, queryResponse(action, result, requestId));
    } catch (error) {
      if (error instanceof SimError) fail(error);
      else {
        fail(
          new SimError(
            'InternalFailure',
            `elbv2-sim: ${error instanceof Error ? error.message : error}`,
            500,
            'Receiver',
          ),
        );
      }
    }
  };

  // Node's default keep-alive (5 s): below the client agent's 1 s safety margin, every request
  // would open a new connection.
  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  const listener = await listenOnLoopback(server);
  const { port } = listener;

  const sim: Elbv2Sim = {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    region,
    accountId,
    account,

    addIngressAlb: (spec) => addIngressAlb(account, spec),
    addUnrelatedLoadBalancers: (n, opts) => addUnrelatedLoadBalancers(account, n, opts),
    addLoadBalancer: (spec) => account.addLoadBalancer(spec).arn,
    addListener: (lbArn, spec) => account.addListener(lbArn, spec).arn,
    addTargetGroup: (spec) => account.addTargetGroup(spec).arn,
    addRule: (listenerArn, spec) => account.addRule(listenerArn, spec).arn,
    deleteRule: (ruleArn) => account.deleteRule(ruleArn),
    tagResource: (arn, tags) => account.tagResource(arn, tags),

    setRuleWeights(ruleArn, weights) {
      account.setRuleWeights(ruleArn, weights);
    },
    modifyRule(ruleArn, change) {
      account.modifyRule(ruleArn, change);
    },
    ruleWeights(ruleArn, which = 'visible') {
      account.settle();
      const rule = account.rules.get(ruleArn);
      if (!rule) throw new Error(`no rule ${ruleArn}`);
      const actions = which === 'visible' ? rule.actions : account.desiredRule(rule).actions;
      const weights: Record<string, number> = {};
      for (const action of actions) {
        if (action.type !== 'forward') continue;
        for (const tg of action.targetGroups as TargetGroupWeight[]) weights[tg.targetGroupArn] = tg.weight;
      }
      return weights;
    },
    setPropagationDelay(ms) {
      account.settings.propagationDelayMs = ms;
    },

    registerTargets: (tgArn, targets) => account.registerTargets(tgArn, targets),
    registerHealthyTargets(tgArn, countOrIds, port) {
      const tg = account.requireTargetGroup(tgArn);
      let ids: string[];
      if (typeof countOrIds === 'number') {
        const taken = new Set(tg.targets.map((t) => t.id));
        ids = [];
        for (let n = 0; ids.length < countOrIds; n++) {
          const id =
            tg.targetType === 'instance'
              ? `i-${account.settings.ids.hex(17, 'healthy', tgArn)}`
              : `10.1.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
          if (!taken.has(id)) {
            taken.add(id);
            ids.push(id);
          }
        }
      } else ids = countOrIds;
      account.registerTargets(
        tgArn,
        ids.map((id) => (port === undefined ? { id } : { id, port })),
        { healthy: true },
      );
      return ids;
    },
    deregisterTargets: (tgArn, targets) => account.deregisterTargets(tgArn, targets),
    setTargetHealth: (tgArn, id, state, opts) => account.setTargetHealth(tgArn, id, state, opts),
    failHealthChecks: (tgArn, id, reason = 'Target.FailedHealthChecks', code) =>
      account.failHealthChecks(tgArn, id, reason, code),
    passHealthChecks: (tgArn, id) => account.passHealthChecks(tgArn, id),

    denyAction(action, principalArn = defaultPrincipal) {
      denied.set(action, principalArn);
    },
    allowAction(action) {
      denied.delete(action);
    },
    injectError(action, error) {
      injected.set(action, { ...error, remaining: error.times ?? Number.POSITIVE_INFINITY });
    },
    clearInjectedErrors() {
      injected.clear();
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    setRateLimit(limit) {
      if (limit === false) bucket = undefined;
      else if (bucket) bucket.reset(limit);
      else bucket = new TokenBucket(limit, now);
    },
    tokens: () => bucket?.available() ?? Number.POSITIVE_INFINITY,

    calls: () => Object.fromEntries(calls),
    resetCalls() {
      calls = new Map();
      throttled = new Map();
      currentSecond = Number.NaN;
      callsThisSecond = 0;
      peakPerSecond = 0;
    },
    throttledCalls: () => [...throttled.values()].reduce((a, b) => a + b, 0),
    stats: () => ({
      calls: Object.fromEntries(calls),
      throttled: Object.fromEntries(throttled),
      throttledTotal: [...throttled.values()].reduce((a, b) => a + b, 0),
      peakCallsPerSecond: peakPerSecond,
    }),

    close: listener.close,
  };
  return sim;
}
