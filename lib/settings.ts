import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Duration, type RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';
import { isCidr } from '../contract/cidr.js';
import {
  DEFAULT_ENTRIES,
  defaultHandlerCode,
  type FunctionName,
  type HandlerCode,
  isInstalledPackage,
  PROJECT_ROOT,
} from './handler-code.js';
import type { LogGroupSettings } from './log-groups.js';

export { DEFAULT_ENTRIES, PROJECT_ROOT };

export const ON_FAILURE_POLICIES = ['abort', 'none'] as const;
export type OnFailurePolicy = (typeof ON_FAILURE_POLICIES)[number];
export const ON_SUCCESS_POLICIES = ['promote', 'none'] as const;
export const ON_INCONCLUSIVE_POLICIES = ['abort', 'none'] as const;
export type OnInconclusivePolicy = (typeof ON_INCONCLUSIVE_POLICIES)[number];
export type OnSuccessPolicy = (typeof ON_SUCCESS_POLICIES)[number];
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULTS = {
  createBus: true,
  deadlineSeconds: 30,
  onFailure: 'abort' as OnFailurePolicy,
  onSuccess: 'none' as OnSuccessPolicy,
  onInconclusive: 'none' as OnInconclusivePolicy,
  verifyReservedConcurrency: 5,
  verifyLookConcurrency: 5,
  ingestReservedConcurrency: 5,
  ingestFront: 'functionUrl' as IngestFront,
  restApiThrottle: { rateLimit: 50, burstLimit: 100 },
  authenticationFailureAlarmThreshold: 50,
  logRetention: RetentionDays.ONE_MONTH,
  logLevel: 'INFO' as LogLevel,
  kubernetesGroups: { verify: 'rollout-verifier-observer', callback: 'rollout-verifier' },
  historyRetention: Duration.days(90),
  gateTimeout: Duration.seconds(60),
  sentinelInterval: Duration.minutes(5),
  sentinelWatchAfterSettled: Duration.hours(1),
  sentinelDescribeShare: 0.25,
} as const;

/** Seconds the verify function keeps back from its timeout to publish the verdict (VERIFY_PUBLISH_RESERVE_MS). */
export const PUBLISH_RESERVE_SECONDS = 5;
/** Cold start, discovery and slack on top of deadline + publish reserve. */
export const VERIFY_TIMEOUT_HEADROOM_SECONDS = 10;
/** Lambda's 900 s limit minus reserve and headroom, rounded down: a deadline above this cannot be honoured. */
export const MAX_DEADLINE_SECONDS = 840;
/** The bounds Lambda puts on an SQS event source mapping's maximum concurrency (ScalingConfig). */
export const MIN_LOOK_CONCURRENCY = 2;
export const MAX_LOOK_CONCURRENCY = 1000;
/** The longest batching window Lambda allows an SQS event source mapping, in seconds. */
export const MAX_LOOK_BATCHING_WINDOW_SECONDS = 300;

/** A function that can be left out (ingest, callback). */
export interface OptionalFunctionOptions {
  /**
   * Create the function. `true` without its code is an error at synth.
   * @default when its code exists: always in the installed package; in the sources, when
   * `lambdas/<function>/handler.ts` exists
   */
  readonly enabled?: boolean;
  /**
   * A TypeScript handler to bundle with esbuild at synth instead of the default code, absolute or
   * relative to the repository root. Development only: the installed package refuses it (it ships
   * prebuilt bundles and no sources to bundle against).
   * @default the prebuilt bundle (package) or `lambdas/<function>/handler.ts` (sources)
   */
  readonly entry?: string;
}

export interface HistoryOptions extends OptionalFunctionOptions {
  /**
   * How long each verdict is kept in the history table (DynamoDB TTL; whole days, at most 3650).
   * @default 90 days
   */
  readonly retention?: Duration;
}

export interface GateOptions extends OptionalFunctionOptions {
  /**
   * The analysis gate function's timeout: an on-demand verification answers within it, so set the
   * web metric's `timeoutSeconds` a little above (docs/analysis-gate.md). At most 15 minutes.
   * @default 60 seconds
   */
  readonly timeout?: Duration;
}

export interface SentinelOptions extends OptionalFunctionOptions {
  /**
   * How often the schedule runs the drift sentinel; a rollout verified (by anyone) within the last
   * interval is skipped. 1 minute to 1 day, whole minutes.
   * @default 5 minutes
   */
  readonly interval?: Duration;
  /**
   * How long after a rollout completed or aborted it is still re-verified (0: not at all).
   * @default 1 hour
   */
  readonly watchAfterSettled?: Duration;
  /**
   * The share (above 0, at most 1) of the account's ELBv2 Describe budget (about 40 burst, 10 per
   * second, shared with the load balancer controller, Argo and the verify function) the sentinel
   * may spend: its calls are paced to that share of the rate and burst.
   * @default 0.25
   */
  readonly describeShare?: number;
}

export interface IngestOptions extends OptionalFunctionOptions {
  /**
   * Reserved concurrency, or `false` for none: a webhook flood cannot exhaust the account.
   * @default 5
   */
  readonly reservedConcurrency?: number | false;
  /**
   * The clusters that post notifications. Each gets its own token secret, and a token speaks for
   * its own cluster only (docs/security.md). Empty: one unbound token, and events carry no cluster.
   * @default the stack's clusters: `clusterName`, `clusterNames` and the keys of `clusterSecrets`
   */
  readonly clusters?: readonly string[];
  /**
   * Upgrading from one token for every cluster: the cluster that keeps that token (its secret,
   * construct id `WebhookToken`, stays as it is), so it needs no change; every other cluster gets a
   * new secret of its own. Give it explicitly before adding a second cluster to a stack that got it
   * by default from a lone `clusterNames` entry.
   * @default `clusterName` if it is a webhook cluster, else the only webhook cluster if there is one
   */
  readonly sharedTokenCluster?: string;
  /**
   * Answer only requests from these CIDR blocks (the clusters' egress addresses, e.g. their NAT
   * gateways'), checked before anything else. With the Function URL the check runs in the function
   * (cheap, but each request is still an invocation); with `front: 'restApi'` the API's resource
   * policy refuses other sources before Lambda is invoked (docs/security.md).
   * @default none: any source
   */
  readonly allowedSourceCidrs?: readonly string[];
  /**
   * Where Argo posts: the function's own URL, or a regional API Gateway REST API in front of it, which
   * can refuse sources outside `allowedSourceCidrs` and throttle before Lambda is invoked, and take a
   * WAF web ACL. Switching changes the webhook URL: update every cluster's secret.
   * @default 'functionUrl'
   */
  readonly front?: IngestFront;
  /**
   * The REST API front's stage throttle (requests per second, and burst), shared by every caller.
   * @default { rateLimit: 50, burstLimit: 100 }
   */
  readonly restApiThrottle?: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * ARN of a regional WAFv2 web ACL associated with the REST API front's stage.
   * @default none
   */
  readonly webAclArn?: string;
  /**
   * The IngestAuthenticationFailures alarm fires when this many requests or more were refused for a
   * missing or wrong token in each of 2 of 3 consecutive 5-minute periods: a sustained rate, not a
   * scanner's single request. (A valid token of another cluster, or a cluster's expired token, alarm
   * on the first one: IngestClusterMismatches, IngestExpiredTokens.)
   * @default 50
   */
  readonly authenticationFailureAlarmThreshold?: number;
}

/** The traffic look (docs/traffic-observed.md): what the ALB served during a verified step, from CloudWatch. */
export interface TrafficLookOptions extends OptionalFunctionOptions {
  /**
   * How long after a Succeeded ALB verdict the step's window stays open, in seconds (60–840).
   * Only whole minutes inside it are read.
   * @default 300
   */
  readonly windowSeconds?: number;
  /**
   * How long CloudWatch is given to publish the window's last minute, in seconds (60–600). The
   * queue holds each look for window + this, which SQS caps at 900.
   * @default 180
   */
  readonly publicationDelaySeconds?: number;
  /**
   * Share points (0–0.5, as a fraction: 0.05 = 5 points) the 95 % interval of the served canary
   * share may miss the configured share by before the look is Failed (ObservedSplitMismatch).
   * @default 0.05
   */
  readonly tolerance?: number;
  /**
   * Fewer requests than this are never judged (InsufficientTraffic), whatever the interval needs.
   * @default 100
   */
  readonly minRequests?: number;
}

export interface ResolvedTrafficLook extends ResolvedOptionalFunction {
  readonly windowSeconds: number;
  readonly publicationDelaySeconds: number;
  readonly tolerance: number;
  readonly minRequests: number;
}

/** SQS DeliveryDelay's limit: the look's window and the publication delay must fit in it. */
export const MAX_TRAFFIC_LOOK_DELAY_SECONDS = 900;

export const INGEST_FRONTS = ['functionUrl', 'restApi'] as const;
export type IngestFront = (typeof INGEST_FRONTS)[number];

/** The webhook's clusters and which one keeps the secret of the single-token versions. */
export interface ResolvedIngest extends ResolvedOptionalFunction {
  readonly reservedConcurrency: number | undefined;
  readonly clusters: readonly string[];
  readonly sharedTokenCluster: string | undefined;
  readonly allowedSourceCidrs: readonly string[];
  readonly front: IngestFront;
  readonly restApiThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly webAclArn: string | undefined;
  readonly authenticationFailureAlarmThreshold: number;
}

export interface RolloutVerifierProps {
  /**
   * EKS cluster whose Rollouts are verified (access entries, eks:DescribeCluster).
   * @default none
   */
  readonly clusterName?: string;
  /**
   * Several clusters; merged with `clusterName`.
   * @default none
   */
  readonly clusterNames?: readonly string[];
  /**
   * Name of the bus to create, or of the existing bus to use with `createBus: false`.
   * @default `<stack name>-<construct path>-<hash>`, unique in the account and region
   */
  readonly busName?: string;
  /**
   * Create the bus, or use the existing one named `busName` (which is then required).
   * @default true
   */
  readonly createBus?: boolean;
  /**
   * Use this bus (from your own stack or `EventBus.fromEventBusArn`) instead of creating one;
   * excludes `busName` and `createBus`.
   * @default a bus created here, as `busName` and `createBus` say
   */
  readonly eventBus?: IEventBus;
  /**
   * Email subscribed to the alarm topic.
   * @default none (subscribe later)
   */
  readonly alarmEmail?: string;
  /**
   * Use this topic for alarms instead of creating one (embedding in an existing app).
   * @default a KMS-encrypted topic created by the stack
   */
  readonly alarmTopic?: ITopic;
  /**
   * Verification deadline in seconds (1–840). The verify timeout is derived from it.
   * @default 30
   */
  readonly deadlineSeconds?: number;
  /**
   * What the callback does on a Failed verdict.
   * @default 'abort'
   */
  readonly onFailure?: OnFailurePolicy;
  /**
   * What the callback does on a Succeeded verdict. `promote` also needs the cluster's promote
   * Component (deploy/cluster/promote).
   * @default 'none'
   */
  readonly onSuccess?: OnSuccessPolicy;
  /**
   * What the callback does on an Inconclusive verdict (the verifier could not observe).
   * @default 'none'
   */
  readonly onInconclusive?: OnInconclusivePolicy;
  /**
   * Clusters that are not EKS: cluster name → ARN of a Secrets Manager secret holding
   * `{"server": "https://…", "certificateAuthorityData": "<base64 PEM>", "token": "…"}`.
   * The verify and callback functions may read these secrets; no access entry is made for them.
   * @default none
   */
  readonly clusterSecrets?: Readonly<Record<string, string>>;
  /**
   * Reserved concurrency of the verify function, or `false` for none. With a number it must be at
   * least `verifyLookConcurrency`: a reservation below the looks queue's maximum concurrency has
   * Lambda throttle the queue's own deliveries (each throttled batch counts as a receive on the
   * way to the dead-letter queue).
   * @default 5
   */
  readonly verifyReservedConcurrency?: number | false;
  /**
   * How many verify invocations the looks queue runs at once at most (the event source mapping's
   * maximum concurrency, 2–1000, at most `verifyReservedConcurrency`): it caps the verifier's share
   * of the account's ELBv2 Describe budget, which verify divides among that many containers
   * (VERIFY_LOOK_CONCURRENCY). Each invocation takes up to 10 verifications.
   * @default `verifyReservedConcurrency` when it is a number, else 5
   */
  readonly verifyLookConcurrency?: number;
  /**
   * How long the looks queue's event source mapping gathers messages before invoking verify
   * (whole seconds, 0–300): fewer, fuller invocations whose verifications share their ELBv2 reads,
   * for up to this much later a first look. 0 invokes as soon as a message arrives.
   * @default Duration.seconds(0)
   */
  readonly verifyMaxBatchingWindow?: Duration;
  /**
   * Retention of every log group of the stack (the functions', and the webhook API's access log).
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Customer-managed KMS key for every log group of the stack. A key created in the same stack gets
   * the key policy statement CloudWatch Logs needs; an imported key's policy must already have it
   * (docs/security.md).
   * @default none: CloudWatch Logs encrypts with keys it manages
   */
  readonly logEncryptionKey?: IKey;
  /**
   * POWERTOOLS_LOG_LEVEL of every function.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * POWERTOOLS_SERVICE_NAME and the `service` dimension of every metric the alarms, the dashboard
   * and the `metric*()` methods read: verifiers that share a name share their metrics.
   * @default `<stack name>-<construct path in the stack>` (e.g. `RolloutVerifier-Verifier`), unique
   * in an account and region
   */
  readonly serviceName?: string;
  /**
   * What CloudFormation does with the verifier's stateful resources when they leave the stack or
   * the stack is deleted: the state table, the log groups, the alarm topic and its key, the
   * dead-letter queues and the webhook token secrets. `RemovalPolicy.DESTROY` for a test stack
   * that must leave nothing behind; `RETAIN` to keep everything.
   * @default each resource's own: the table, the log groups and the key are retained; the queues,
   * the topic and the secrets are deleted
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Customer-managed key for the table.
   * @default the AWS-managed DynamoDB key
   */
  readonly tableEncryptionKey?: IKey;
  /**
   * Kubernetes groups of the access entries.
   * @default { verify: 'rollout-verifier-observer', callback: 'rollout-verifier' }
   */
  readonly kubernetesGroups?: { readonly verify?: string; readonly callback?: string };
  /**
   * VPC for the functions that talk to the cluster (private API endpoints).
   * @default no VPC
   */
  readonly vpc?: IVpc;
  /**
   * Subnets of `vpc` for those functions.
   * @default the VPC's private subnets
   */
  readonly vpcSubnets?: SubnetSelection;
  /**
   * Security groups of those functions.
   * @default one created by CDK, all outbound allowed
   */
  readonly securityGroups?: readonly ISecurityGroup[];
  /**
   * A TypeScript verify handler to bundle instead of the default code (development only, as
   * `ingest.entry`).
   * @default the prebuilt bundle (package) or 'lambdas/verify/handler.ts' (sources)
   */
  readonly verifyEntry?: string;
  /**
   * The ingest function (the Argo notifications webhook).
   * @default enabled when its handler exists, reserved concurrency 5
   */
  readonly ingest?: IngestOptions;
  /**
   * The callback function (Events, abort, promote).
   * @default enabled when its handler exists
   */
  readonly callback?: OptionalFunctionOptions;
  /**
   * The traffic look after each Succeeded ALB verdict: the served split from CloudWatch, published
   * as a `traffic-observed` event (report only: the callback never acts on it).
   * @default enabled when its handler exists; window 300 s, publication delay 180 s, tolerance 0.05, 100 requests
   */
  readonly trafficLook?: TrafficLookOptions;
  /**
   * The verdict history: a table keeping every verdict with its evidence, and the function that
   * records them (docs/analysis-gate.md, "History"). Needs the history for the analysis gate.
   * @default enabled when its handler exists, verdicts kept 90 days
   */
  readonly history?: HistoryOptions;
  /**
   * The analysis gate: an HTTP endpoint an Argo `web` metric calls, answering the verdict of the
   * rollout's current step (docs/analysis-gate.md). Authenticated with the clusters' webhook tokens,
   * so it needs the ingest function's token secrets.
   * @default enabled when its handler exists and the history and ingest are enabled, timeout 60 s
   */
  readonly gate?: GateOptions;
  /**
   * The drift sentinel: an EventBridge Scheduler schedule re-verifying watched rollouts and
   * publishing "Rollout Verification Drift" (docs/analysis-gate.md, "Drift sentinel"). Needs the
   * history (its watch list) and cluster access (it reads the live Rollouts).
   * @default enabled when its handler exists, the history is enabled and the stack names clusters
   */
  readonly sentinel?: SentinelOptions;
}

export interface ResolvedOptionalFunction {
  readonly enabled: boolean;
  /** Set when enabled. */
  readonly code: HandlerCode | undefined;
}

export interface ResolvedSettings {
  readonly clusterNames: readonly string[];
  readonly busName: string | undefined;
  readonly createBus: boolean;
  readonly alarmEmail?: string;
  readonly deadlineSeconds: number;
  readonly verifyTimeoutSeconds: number;
  readonly onFailure: OnFailurePolicy;
  readonly onSuccess: OnSuccessPolicy;
  readonly onInconclusive: OnInconclusivePolicy;
  readonly clusterSecrets: Readonly<Record<string, string>>;
  readonly verifyReservedConcurrency: number | undefined;
  /** The looks queue's event source mapping: maximum concurrency and batching window. */
  readonly verifyLookConcurrency: number;
  readonly verifyMaxBatchingWindowSeconds: number;
  /** Retention and key of every log group. */
  readonly logs: LogGroupSettings;
  readonly logLevel: LogLevel;
  readonly serviceName: string;
  readonly kubernetesGroups: { readonly verify: string; readonly callback: string };
  readonly verifyCode: HandlerCode;
  readonly ingest: ResolvedIngest;
  readonly callback: ResolvedOptionalFunction;
  readonly trafficLook: ResolvedTrafficLook;
  readonly history: ResolvedOptionalFunction & { readonly retentionDays: number };
  readonly gate: ResolvedOptionalFunction & { readonly timeoutSeconds: number };
  readonly sentinel: ResolvedOptionalFunction & {
    readonly intervalMinutes: number;
    readonly watchAfterSettledSeconds: number;
    readonly describeShare: number;
  };
}

export class RolloutVerifierConfigError extends Error {
  /**
   * @param where the construct path of the RolloutVerifier (or "cdk context" for bin/app.ts's
   * context values), so the message says which of several verifiers is wrong
   */
  constructor(
    readonly problems: readonly string[],
    readonly where: string,
  ) {
    super(`invalid RolloutVerifier settings at ${where}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'RolloutVerifierConfigError';
  }
}

const EKS_CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;
const EVENT_BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Kubernetes group in an access entry: any non-empty string not starting with `system:` (reserved by EKS). */
const KUBERNETES_GROUP = /^(?!system:)\S{1,255}$/;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const isConcrete = (value: unknown): boolean => !(typeof value === 'string' && Token.isUnresolved(value));

/**
 * Validates every prop at once and applies the defaults: one error listing every problem, naming
 * the construct path of `scope` (the RolloutVerifier).
 */
export function resolveSettings(scope: IConstruct, props: RolloutVerifierProps = {}): ResolvedSettings {
  const problems: string[] = [];
  const check = (ok: boolean, message: string) => {
    if (!ok) problems.push(message);
  };

  const clusterNames = [
    ...new Set([...(props.clusterName ? [props.clusterName] : []), ...(props.clusterNames ?? [])]),
  ];
  for (const name of clusterNames) {
    check(
      !isConcrete(name) || EKS_CLUSTER_NAME.test(name),
      `clusterName "${name}" is not a valid EKS cluster name (letters, digits, - and _, at most 100)`,
    );
  }
  if (props.clusterName !== undefined && props.clusterName.length === 0) {
    problems.push('clusterName must not be empty (omit it instead)');
  }

  const busName = props.busName;
  const createBus = props.createBus ?? DEFAULTS.createBus;
  if (busName !== undefined) {
    check(
      !isConcrete(busName) || EVENT_BUS_NAME.test(busName),
      `busName "${busName}" is not a valid event bus name`,
    );
  }
  check(
    createBus || busName !== undefined || props.eventBus !== undefined,
    'createBus false needs busName: the name of the existing bus to use',
  );
  check(
    props.eventBus === undefined || (busName === undefined && props.createBus === undefined),
    'eventBus excludes busName and createBus: it is the bus',
  );
  check(
    !(createBus && busName === 'default'),
    'busName "default" is the account\'s default bus: set createBus false',
  );

  if (props.alarmEmail !== undefined) {
    check(
      !isConcrete(props.alarmEmail) || EMAIL.test(props.alarmEmail),
      `alarmEmail "${props.alarmEmail}" is not an email address`,
    );
  }
  check(
    !(props.alarmEmail !== undefined && props.alarmTopic !== undefined),
    'alarmEmail and alarmTopic are exclusive: subscribe the email to your own topic',
  );

  const deadlineSeconds = props.deadlineSeconds ?? DEFAULTS.deadlineSeconds;
  check(
    Number.isInteger(deadlineSeconds) && deadlineSeconds >= 1 && deadlineSeconds <= MAX_DEADLINE_SECONDS,
    `deadlineSeconds must be an integer from 1 to ${MAX_DEADLINE_SECONDS} (the function timeout adds ` +
      `${PUBLISH_RESERVE_SECONDS + VERIFY_TIMEOUT_HEADROOM_SECONDS} s and Lambda stops at 900 s), got ${deadlineSeconds}`,
  );

  const onFailure = props.onFailure ?? DEFAULTS.onFailure;
  check(
    (ON_FAILURE_POLICIES as readonly string[]).includes(onFailure),
    `onFailure must be one of ${ON_FAILURE_POLICIES.join(', ')}, got "${onFailure}"`,
  );
  const onSuccess = props.onSuccess ?? DEFAULTS.onSuccess;
  check(
    (ON_SUCCESS_POLICIES as readonly string[]).includes(onSuccess),
    `onSuccess must be one of ${ON_SUCCESS_POLICIES.join(', ')}, got "${onSuccess}"`,
  );

  const onInconclusive = props.onInconclusive ?? DEFAULTS.onInconclusive;
  check(
    (ON_INCONCLUSIVE_POLICIES as readonly string[]).includes(onInconclusive),
    `onInconclusive must be one of ${ON_INCONCLUSIVE_POLICIES.join(', ')}, got "${onInconclusive}"`,
  );
  const clusterSecrets = { ...(props.clusterSecrets ?? {}) };
  for (const [name, arn] of Object.entries(clusterSecrets)) {
    check(
      EKS_CLUSTER_NAME.test(name),
      `clusterSecrets key "${name}" is not a valid cluster name (letters, digits, - and _)`,
    );
    check(
      !isConcrete(arn) || SECRET_ARN.test(arn),
      `clusterSecrets["${name}"] is not a Secrets Manager secret ARN: "${arn}"`,
    );
    check(
      !clusterNames.includes(name),
      `cluster "${name}" is both an EKS cluster (clusterNames) and in clusterSecrets`,
    );
  }

  const verifyReservedConcurrency = reservedConcurrency(
    'verifyReservedConcurrency',
    props.verifyReservedConcurrency,
    DEFAULTS.verifyReservedConcurrency,
    problems,
  );
  const verifyLookConcurrency = resolveLookConcurrency(
    props.verifyLookConcurrency,
    // An invalid reservation has its own problem already; the look concurrency is then held to nothing.
    verifyReservedConcurrency !== undefined &&
      Number.isInteger(verifyReservedConcurrency) &&
      verifyReservedConcurrency >= 1 &&
      verifyReservedConcurrency <= 1000
      ? verifyReservedConcurrency
      : undefined,
    problems,
  );
  const batchingWindow = props.verifyMaxBatchingWindow ?? Duration.seconds(0);
  const verifyMaxBatchingWindowSeconds = batchingWindow.isUnresolved()
    ? Number.NaN
    : batchingWindow.toSeconds({ integral: false });
  check(
    Number.isInteger(verifyMaxBatchingWindowSeconds) &&
      verifyMaxBatchingWindowSeconds >= 0 &&
      verifyMaxBatchingWindowSeconds <= MAX_LOOK_BATCHING_WINDOW_SECONDS,
    `verifyMaxBatchingWindow must be whole seconds from 0 to ${MAX_LOOK_BATCHING_WINDOW_SECONDS}, got ${batchingWindow.toHumanString()}`,
  );

  const logRetention = props.logRetention ?? DEFAULTS.logRetention;
  check(
    Object.values(RetentionDays).includes(logRetention),
    `logRetention must be one of CloudWatch's retention periods in days (${retentionChoices()}), got ${logRetention}`,
  );
  const logLevel = props.logLevel ?? DEFAULTS.logLevel;
  check(LOG_LEVELS.includes(logLevel), `logLevel must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const serviceName = props.serviceName ?? defaultServiceName(scope);
  check(
    SERVICE_NAME.test(serviceName),
    `serviceName "${serviceName}" must be 1–64 letters, digits, . _ or -`,
  );

  const kubernetesGroups = {
    verify: props.kubernetesGroups?.verify ?? DEFAULTS.kubernetesGroups.verify,
    callback: props.kubernetesGroups?.callback ?? DEFAULTS.kubernetesGroups.callback,
  };
  for (const group of Object.values(kubernetesGroups)) {
    check(KUBERNETES_GROUP.test(group), `Kubernetes group "${group}" is invalid (non-empty, not system:*)`);
  }
  check(
    props.vpc !== undefined || (props.vpcSubnets === undefined && props.securityGroups === undefined),
    'vpcSubnets and securityGroups need vpc',
  );

  const verify = functionCode('verify', props.verifyEntry, 'verifyEntry', problems);
  check(
    verify !== undefined || props.verifyEntry !== undefined,
    `the verify function has no code: neither its bundle nor ${DEFAULT_ENTRIES.verify} exists`,
  );
  const ingest = resolveIngest(props, clusterNames, Object.keys(clusterSecrets), problems);
  const callback = optionalFunction('callback', props.callback, problems);
  const trafficLook = resolveTrafficLook(props.trafficLook, problems);
  const history = resolveHistory(props.history, problems);
  const gate = resolveGate(props.gate, history.enabled, ingest.enabled, problems);
  const sentinel = resolveSentinel(
    props.sentinel,
    history.enabled,
    clusterNames.length + Object.keys(clusterSecrets).length > 0,
    problems,
  );

  if (problems.length > 0) {
    throw new RolloutVerifierConfigError(problems, scope.node.path);
  }
  return {
    clusterNames,
    busName,
    createBus,
    ...(props.alarmEmail === undefined ? {} : { alarmEmail: props.alarmEmail }),
    deadlineSeconds,
    verifyTimeoutSeconds: deadlineSeconds + PUBLISH_RESERVE_SECONDS + VERIFY_TIMEOUT_HEADROOM_SECONDS,
    onFailure,
    onSuccess,
    onInconclusive,
    clusterSecrets,
    verifyReservedConcurrency,
    verifyLookConcurrency,
    verifyMaxBatchingWindowSeconds,
    logs: {
      retention: logRetention,
      ...(props.logEncryptionKey ? { encryptionKey: props.logEncryptionKey } : {}),
    },
    logLevel,
    serviceName,
    kubernetesGroups,
    verifyCode: verify as HandlerCode,
    ingest,
    callback,
    trafficLook,
    history,
    gate,
    sentinel,
  };
}

function resolveTrafficLook(
  options: TrafficLookOptions | undefined,
  problems: string[],
): ResolvedTrafficLook {
  const fn = optionalFunction('traffic', options, problems);
  const windowSeconds = options?.windowSeconds ?? 300;
  const publicationDelaySeconds = options?.publicationDelaySeconds ?? 180;
  const tolerance = options?.tolerance ?? 0.05;
  const minRequests = options?.minRequests ?? 100;
  if (!Number.isInteger(windowSeconds) || windowSeconds < 60 || windowSeconds > 840) {
    problems.push(`trafficLook.windowSeconds must be an integer from 60 to 840, got ${windowSeconds}`);
  }
  if (
    !Number.isInteger(publicationDelaySeconds) ||
    publicationDelaySeconds < 60 ||
    publicationDelaySeconds > 600
  ) {
    problems.push(
      `trafficLook.publicationDelaySeconds must be an integer from 60 to 600, got ${publicationDelaySeconds}`,
    );
  }
  if (windowSeconds + publicationDelaySeconds > MAX_TRAFFIC_LOOK_DELAY_SECONDS) {
    problems.push(
      `trafficLook.windowSeconds + publicationDelaySeconds must be at most ${MAX_TRAFFIC_LOOK_DELAY_SECONDS} (SQS's longest delivery delay), got ${windowSeconds + publicationDelaySeconds}`,
    );
  }
  if (!(tolerance > 0 && tolerance < 0.5)) {
    problems.push(
      `trafficLook.tolerance must be a share between 0 and 0.5 (0.05 = 5 points), got ${tolerance}`,
    );
  }
  if (!Number.isInteger(minRequests) || minRequests < 1) {
    problems.push(`trafficLook.minRequests must be a positive integer, got ${minRequests}`);
  }
  return { ...fn, windowSeconds, publicationDelaySeconds, tolerance, minRequests };
}

function resolveSentinel(
  options: SentinelOptions | undefined,
  historyEnabled: boolean,
  hasClusters: boolean,
  problems: string[],
): ResolvedSettings['sentinel'] {
  const code = functionCode('sentinel', options?.entry, 'sentinel.entry', problems);
  const enabled = options?.enabled ?? (code !== undefined && historyEnabled && hasClusters);
  if (enabled && code === undefined && options?.entry === undefined) {
    problems.push(
      `sentinel is enabled but has no code: neither its bundle nor ${DEFAULT_ENTRIES.sentinel} exists`,
    );
  }
  if (enabled && (!historyEnabled || !hasClusters)) {
    problems.push('sentinel needs the history (its watch list) and a cluster (it reads the live Rollouts)');
  }
  const interval = options?.interval ?? DEFAULTS.sentinelInterval;
  const intervalMinutes = interval.isUnresolved() ? Number.NaN : interval.toSeconds() / 60;
  if (!Number.isInteger(intervalMinutes) || intervalMinutes < 1 || intervalMinutes > 1440) {
    problems.push(`sentinel.interval must be whole minutes from 1 to 1440, got ${interval.toHumanString()}`);
  }
  const watchAfterSettled = options?.watchAfterSettled ?? DEFAULTS.sentinelWatchAfterSettled;
  const watchAfterSettledSeconds = watchAfterSettled.isUnresolved()
    ? Number.NaN
    : watchAfterSettled.toSeconds();
  if (!Number.isInteger(watchAfterSettledSeconds) || watchAfterSettledSeconds < 0) {
    problems.push(
      `sentinel.watchAfterSettled must be whole seconds, got ${watchAfterSettled.toHumanString()}`,
    );
  }
  const describeShare = options?.describeShare ?? DEFAULTS.sentinelDescribeShare;
  if (!(describeShare > 0 && describeShare <= 1)) {
    problems.push(`sentinel.describeShare must be above 0 and at most 1, got ${describeShare}`);
  }
  return {
    enabled,
    code: enabled ? code : undefined,
    intervalMinutes,
    watchAfterSettledSeconds,
    describeShare,
  };
}

function resolveHistory(
  options: HistoryOptions | undefined,
  problems: string[],
): ResolvedSettings['history'] {
  const fn = optionalFunction('history', options, problems);
  const retention = options?.retention ?? DEFAULTS.historyRetention;
  const retentionDays = retention.isUnresolved() ? Number.NaN : retention.toSeconds() / 86_400;
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 3650) {
    problems.push(
      `history.retention must be a whole number of days from 1 to 3650, got ${retention.toHumanString()}`,
    );
  }
  return { ...fn, retentionDays };
}

function resolveGate(
  options: GateOptions | undefined,
  historyEnabled: boolean,
  ingestEnabled: boolean,
  problems: string[],
): ResolvedSettings['gate'] {
  const code = functionCode('gate', options?.entry, 'gate.entry', problems);
  const enabled = options?.enabled ?? (code !== undefined && historyEnabled && ingestEnabled);
  if (enabled && code === undefined && options?.entry === undefined) {
    problems.push(`gate is enabled but has no code: neither its bundle nor ${DEFAULT_ENTRIES.gate} exists`);
  }
  if (enabled && (!historyEnabled || !ingestEnabled)) {
    problems.push(
      'gate needs the history (stored verdicts) and the ingest (the clusters’ token secrets) enabled',
    );
  }
  const timeout = options?.timeout ?? DEFAULTS.gateTimeout;
  const timeoutSeconds = timeout.isUnresolved() ? Number.NaN : timeout.toSeconds();
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 10 || timeoutSeconds > 900) {
    problems.push(`gate.timeout must be whole seconds from 10 to 900, got ${timeout.toHumanString()}`);
  }
  return { enabled, code: enabled ? code : undefined, timeoutSeconds };
}

function resolveIngest(
  props: RolloutVerifierProps,
  clusterNames: readonly string[],
  secretClusters: readonly string[],
  problems: string[],
): ResolvedIngest {
  const options = props.ingest ?? {};
  const fn = optionalFunction('ingest', options, problems);
  const clusters = fn.enabled ? [...new Set(options.clusters ?? [...clusterNames, ...secretClusters])] : [];
  if (clusters.some((cluster) => !isConcrete(cluster))) {
    problems.push(
      'the webhook binds a token to each cluster name: give the names at synth (or set ingest.clusters)',
    );
  }
  // The default clusters' names are checked where they are given; explicit ones here.
  for (const cluster of options.clusters ?? []) {
    if (isConcrete(cluster) && !EKS_CLUSTER_NAME.test(cluster)) {
      problems.push(`ingest.clusters: "${cluster}" is not a valid cluster name (letters, digits, - and _)`);
    }
  }
  const byDefault =
    props.clusterName !== undefined && clusters.includes(props.clusterName)
      ? props.clusterName
      : clusters.length === 1
        ? clusters[0]
        : undefined;
  const sharedTokenCluster = options.sharedTokenCluster ?? byDefault;
  if (sharedTokenCluster !== undefined && !clusters.includes(sharedTokenCluster)) {
    problems.push(`ingest.sharedTokenCluster "${sharedTokenCluster}" is not one of the webhook's clusters`);
  }
  const allowedSourceCidrs = [...(options.allowedSourceCidrs ?? [])];
  for (const cidr of allowedSourceCidrs) {
    if (isConcrete(cidr) && !isCidr(cidr)) {
      problems.push(
        `ingest.allowedSourceCidrs: "${cidr}" is not a CIDR block (203.0.113.0/24, 2001:db8::/32)`,
      );
    }
  }
  const front = options.front ?? DEFAULTS.ingestFront;
  if (!(INGEST_FRONTS as readonly string[]).includes(front)) {
    problems.push(`ingest.front must be one of ${INGEST_FRONTS.join(', ')}, got "${front}"`);
  }
  const restApiThrottle = options.restApiThrottle ?? DEFAULTS.restApiThrottle;
  if (
    !(Number.isInteger(restApiThrottle.rateLimit) && restApiThrottle.rateLimit >= 1) ||
    !(Number.isInteger(restApiThrottle.burstLimit) && restApiThrottle.burstLimit >= 1)
  ) {
    problems.push('ingest.restApiThrottle needs whole numbers of at least 1 for rateLimit and burstLimit');
  }
  if (front !== 'restApi' && (options.webAclArn !== undefined || options.restApiThrottle !== undefined)) {
    problems.push("ingest.webAclArn and ingest.restApiThrottle need front: 'restApi'");
  }
  const authenticationFailureAlarmThreshold =
    options.authenticationFailureAlarmThreshold ?? DEFAULTS.authenticationFailureAlarmThreshold;
  if (!Number.isInteger(authenticationFailureAlarmThreshold) || authenticationFailureAlarmThreshold < 2) {
    problems.push(
      `ingest.authenticationFailureAlarmThreshold must be a whole number of at least 2 (one refused request is no signal), got ${authenticationFailureAlarmThreshold}`,
    );
  }
  return {
    ...fn,
    allowedSourceCidrs,
    front,
    restApiThrottle,
    webAclArn: options.webAclArn,
    authenticationFailureAlarmThreshold,
    reservedConcurrency: reservedConcurrency(
      'ingest.reservedConcurrency',
      options.reservedConcurrency,
      DEFAULTS.ingestReservedConcurrency,
      problems,
    ),
    clusters,
    sharedTokenCluster,
  };
}

/**
 * The `service` metric dimension unless one is given: the stack's name (unique in an account and
 * region) and the construct's path in the stack, so two verifiers never count each other's
 * verdicts. Inside a nested stack, whose name is known only at deploy time, a hash of the path.
 */
export function defaultServiceName(scope: IConstruct): string {
  const stack = Stack.of(scope);
  const inStack = scope.node.scopes.slice(stack.node.scopes.length).map((construct) => construct.node.id);
  const readable = [stack.stackName, ...inStack].join('-').replace(/[^A-Za-z0-9._-]/g, '');
  if (!Token.isUnresolved(stack.stackName) && SERVICE_NAME.test(readable)) return readable;
  return `rollout-verifier-${scope.node.addr.slice(0, 16)}`;
}

function reservedConcurrency(
  name: string,
  value: number | false | undefined,
  fallback: number,
  problems: string[],
): number | undefined {
  if (value === false) return undefined;
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < 1 || resolved > 1000) {
    problems.push(`${name} must be an integer from 1 to 1000, or false for none, got ${resolved}`);
  }
  return resolved;
}

/**
 * The looks queue's maximum concurrency: Lambda's 2–1000, and within verify's reservation, which
 * would otherwise throttle the mapping's own invocations.
 */
function resolveLookConcurrency(
  value: number | undefined,
  reserved: number | undefined,
  problems: string[],
): number {
  const resolved = value ?? reserved ?? DEFAULTS.verifyLookConcurrency;
  const range = `${MIN_LOOK_CONCURRENCY} to ${MAX_LOOK_CONCURRENCY}`;
  if (!Number.isInteger(resolved) || resolved < MIN_LOOK_CONCURRENCY || resolved > MAX_LOOK_CONCURRENCY) {
    problems.push(
      value === undefined
        ? `verifyReservedConcurrency ${reserved} is below the looks queue's smallest maximum concurrency ` +
            `(${MIN_LOOK_CONCURRENCY}, Lambda's limit for an SQS event source): reserve at least ${MIN_LOOK_CONCURRENCY}, or false for none`
        : `verifyLookConcurrency must be an integer from ${range} (Lambda's limits for an SQS event source), got ${resolved}`,
    );
  } else if (reserved !== undefined && resolved > reserved) {
    problems.push(
      `verifyLookConcurrency ${resolved} is above verifyReservedConcurrency ${reserved}: Lambda would throttle ` +
        "the looks queue's own invocations; lower it or reserve more",
    );
  }
  return resolved;
}

function optionalFunction(
  name: FunctionName,
  options: OptionalFunctionOptions | undefined,
  problems: string[],
): ResolvedOptionalFunction {
  const code = functionCode(name, options?.entry, `${name}.entry`, problems);
  const enabled = options?.enabled ?? code !== undefined;
  if (enabled && code === undefined && options?.entry === undefined) {
    problems.push(
      `${name} is enabled but has no code: neither its bundle nor ${DEFAULT_ENTRIES[name]} exists`,
    );
  }
  return { enabled, code: enabled ? code : undefined };
}

/** An explicit entry (checked), else the default code; undefined when there is none (a problem is recorded for a bad entry). */
function functionCode(
  name: FunctionName,
  entry: string | undefined,
  prop: string,
  problems: string[],
): HandlerCode | undefined {
  if (entry === undefined) return defaultHandlerCode(name);
  if (isInstalledPackage()) {
    problems.push(
      `${prop}: the installed package deploys its prebuilt ${name} bundle and cannot bundle another handler ` +
        '(a clone of the repository can)',
    );
    return undefined;
  }
  const file = isAbsolute(entry) ? entry : resolve(PROJECT_ROOT, entry);
  if (!existsSync(file)) {
    problems.push(`${prop}: the handler ${file} does not exist`);
    return undefined;
  }
  return { kind: 'source', entry: file };
}

function retentionChoices(): string {
  return Object.values(RetentionDays)
    .filter((value) => typeof value === 'number')
    .join(', ');
}
