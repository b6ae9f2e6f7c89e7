/**
 * The environment variables of the functions: the one place the infrastructure (lib/, which sets
 * them) and the runtime (lambdas/, whose settings readers parse them) take their names from, so a
 * rename cannot leave one side behind. Dependency-free, like event-catalog.ts: lib/ must not pull
 * runtime code, lambdas/ must not pull aws-cdk-lib. test/infra/environment-contract.test.ts holds
 * both sides to the lists below.
 */

// ---- set by the construct -----------------------------------------------------------------------

/** The bus rollout events (ingest) and verdicts (verify) are published to. */
export const EVENT_BUS_NAME = 'EVENT_BUS_NAME';
/** The state table: Powertools idempotency records of verify and callback (contract/state-table.ts). */
export const STATE_TABLE_NAME = 'STATE_TABLE_NAME';
/** The callback releases a pause only once it is this many milliseconds old (lambdas/core/callback/respond.ts). */
export const CALLBACK_PAUSE_SETTLE_MS = 'CALLBACK_PAUSE_SETTLE_MS';
/** The verdict history table (contract/history-table.ts): every verdict, kept for HISTORY_RETENTION_DAYS. */
export const HISTORY_TABLE_NAME = 'HISTORY_TABLE_NAME';
/** How long a verdict is kept in the history (DynamoDB TTL), in days; 0 keeps it forever. */
export const HISTORY_RETENTION_DAYS = 'HISTORY_RETENTION_DAYS';
/** The drift sentinel skips a rollout verified (by anyone) less than this many seconds ago: its schedule's interval. */
export const DRIFT_INTERVAL_SECONDS = 'DRIFT_INTERVAL_SECONDS';
/** How long after a rollout completed or aborted the drift sentinel keeps re-verifying it. */
export const DRIFT_WATCH_AFTER_SETTLED_SECONDS = 'DRIFT_WATCH_AFTER_SETTLED_SECONDS';
/** The share (0–1) of the account's ELBv2 Describe budget the drift sentinel may spend. */
export const DRIFT_DESCRIBE_SHARE = 'DRIFT_DESCRIBE_SHARE';
/** The EKS clusters a function may call, comma-separated. */
export const CLUSTER_NAMES = 'CLUSTER_NAMES';
/** Clusters that are not EKS: JSON `{"<cluster>": "<connection secret ARN>"}`. */
export const CLUSTER_SECRET_ARNS = 'CLUSTER_SECRET_ARNS';
export const VERIFY_DEADLINE_SECONDS = 'VERIFY_DEADLINE_SECONDS';
/** Time the verify function keeps back from its timeout to publish the verdict. */
export const VERIFY_PUBLISH_RESERVE_MS = 'VERIFY_PUBLISH_RESERVE_MS';
/**
 * The looks queue (SQS): rollout events arrive on it from the bus, and verify sends a verification
 * that must wait back to it with a delay, so no Lambda slot is held while the ALB converges.
 */
export const VERIFY_QUEUE_URL = 'VERIFY_QUEUE_URL';
/** The looks queue's event source mapping's maximum concurrency: verify divides its Describe share by it. */
export const VERIFY_LOOK_CONCURRENCY = 'VERIFY_LOOK_CONCURRENCY';
export const ON_FAILURE = 'ON_FAILURE';
export const ON_SUCCESS = 'ON_SUCCESS';
export const ON_INCONCLUSIVE = 'ON_INCONCLUSIVE';
/** Each webhook cluster's token secret: JSON `{"<cluster>": "<secret ARN>"}`. */
export const WEBHOOK_TOKEN_SECRET_ARNS = 'WEBHOOK_TOKEN_SECRET_ARNS';
/** The one token secret of a stack that names no cluster. */
export const WEBHOOK_TOKEN_SECRET_ARN = 'WEBHOOK_TOKEN_SECRET_ARN';
/** The webhook's source allow-list, comma-separated CIDR blocks. */
export const ALLOWED_SOURCE_CIDRS = 'ALLOWED_SOURCE_CIDRS';

/** The traffic look (docs/traffic-observed.md): its window, CloudWatch's delay and the judge's knobs. */
export const TRAFFIC_WINDOW_SECONDS = 'TRAFFIC_WINDOW_SECONDS';
export const TRAFFIC_PUBLICATION_DELAY_SECONDS = 'TRAFFIC_PUBLICATION_DELAY_SECONDS';
export const TRAFFIC_TOLERANCE = 'TRAFFIC_TOLERANCE';
export const TRAFFIC_MIN_REQUESTS = 'TRAFFIC_MIN_REQUESTS';

/** Every function gets these; Powertools reads them itself. */
export const POWERTOOLS_SERVICE_NAME = 'POWERTOOLS_SERVICE_NAME';
export const POWERTOOLS_METRICS_NAMESPACE = 'POWERTOOLS_METRICS_NAMESPACE';
export const POWERTOOLS_LOG_LEVEL = 'POWERTOOLS_LOG_LEVEL';

// ---- read with a default, never set by the construct --------------------------------------------

export const VERIFY_INITIAL_DELAY_MS = 'VERIFY_INITIAL_DELAY_MS';
export const VERIFY_MAX_DELAY_MS = 'VERIFY_MAX_DELAY_MS';
export const VERIFY_STEADY_LOOKS = 'VERIFY_STEADY_LOOKS';
/** How long one delivery of a verification may wait inside its invocation (short waits) before it is re-queued. */
export const VERIFY_HOLD_MS = 'VERIFY_HOLD_MS';
/** The share (0–1) of the account's ELBv2 Describe budget the verify function may spend, all containers together. */
export const VERIFY_DESCRIBE_SHARE = 'VERIFY_DESCRIBE_SHARE';
export const IDEMPOTENCY_TTL_SECONDS = 'IDEMPOTENCY_TTL_SECONDS';
export const KUBE_REQUEST_TIMEOUT_MS = 'KUBE_REQUEST_TIMEOUT_MS';
export const KUBE_MAX_ATTEMPTS = 'KUBE_MAX_ATTEMPTS';
export const WEBHOOK_TOKEN_CACHE_SECONDS = 'WEBHOOK_TOKEN_CACHE_SECONDS';
export const WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES = 'WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES';
/** Binds WEBHOOK_TOKEN_SECRET_ARN's token to one cluster, for a function configured by hand. */
export const CLUSTER_NAME = 'CLUSTER_NAME';
/** Time the analysis gate keeps back from its timeout to answer (and record) an on-demand verdict. */
export const GATE_RESPONSE_RESERVE_MS = 'GATE_RESPONSE_RESERVE_MS';
/** How long the analysis gate waits for the verify function's verdict before observing itself. */
export const GATE_STORED_VERDICT_WAIT_MS = 'GATE_STORED_VERDICT_WAIT_MS';

/** The account's ELBv2 Describe budget the sentinel takes its share of: refill per second, and burst. */
export const ELB_DESCRIBE_RATE_PER_SECOND = 'ELB_DESCRIBE_RATE_PER_SECOND';
export const ELB_DESCRIBE_BURST = 'ELB_DESCRIBE_BURST';

/** Set by the Lambda runtime. */
export const AWS_LAMBDA_FUNCTION_NAME = 'AWS_LAMBDA_FUNCTION_NAME';

/** Set by lib/verifier-function.ts on every function. */
export const COMMON_VARIABLES = [POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL];

export interface FunctionVariables {
  /** What the construct sets (some only in some configurations: CLUSTER_SECRET_ARNS with non-EKS clusters…). */
  readonly set: readonly string[];
  /** What the function also reads, with a default or as unset, and the construct leaves alone. */
  readonly optional: readonly string[];
  /** What the Lambda runtime provides. */
  readonly runtime: readonly string[];
}

/** Per function: the names its settings reader accepts are exactly `set`, `optional` and `runtime`. */
export const FUNCTION_VARIABLES = {
  verify: {
    set: [
      EVENT_BUS_NAME,
      STATE_TABLE_NAME,
      CLUSTER_NAMES,
      CLUSTER_SECRET_ARNS,
      VERIFY_DEADLINE_SECONDS,
      VERIFY_PUBLISH_RESERVE_MS,
      VERIFY_QUEUE_URL,
      VERIFY_LOOK_CONCURRENCY,
    ],
    optional: [
      VERIFY_INITIAL_DELAY_MS,
      VERIFY_MAX_DELAY_MS,
      VERIFY_STEADY_LOOKS,
      VERIFY_HOLD_MS,
      VERIFY_DESCRIBE_SHARE,
      ELB_DESCRIBE_RATE_PER_SECOND,
      ELB_DESCRIBE_BURST,
      IDEMPOTENCY_TTL_SECONDS,
      KUBE_REQUEST_TIMEOUT_MS,
      KUBE_MAX_ATTEMPTS,
    ],
    runtime: [],
  },
  callback: {
    set: [STATE_TABLE_NAME, CLUSTER_NAMES, CLUSTER_SECRET_ARNS, ON_FAILURE, ON_SUCCESS, ON_INCONCLUSIVE],
    optional: [IDEMPOTENCY_TTL_SECONDS, KUBE_REQUEST_TIMEOUT_MS, KUBE_MAX_ATTEMPTS, CALLBACK_PAUSE_SETTLE_MS],
    runtime: [AWS_LAMBDA_FUNCTION_NAME],
  },
  traffic: {
    set: [
      EVENT_BUS_NAME,
      TRAFFIC_WINDOW_SECONDS,
      TRAFFIC_PUBLICATION_DELAY_SECONDS,
      TRAFFIC_TOLERANCE,
      TRAFFIC_MIN_REQUESTS,
    ],
    optional: [],
    runtime: [],
  },
  ingest: {
    set: [EVENT_BUS_NAME, WEBHOOK_TOKEN_SECRET_ARNS, WEBHOOK_TOKEN_SECRET_ARN, ALLOWED_SOURCE_CIDRS],
    optional: [CLUSTER_NAME, WEBHOOK_TOKEN_CACHE_SECONDS, WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES],
    runtime: [],
  },
  history: {
    set: [HISTORY_TABLE_NAME, HISTORY_RETENTION_DAYS],
    optional: [],
    runtime: [],
  },
  sentinel: {
    set: [
      HISTORY_TABLE_NAME,
      HISTORY_RETENTION_DAYS,
      EVENT_BUS_NAME,
      CLUSTER_NAMES,
      CLUSTER_SECRET_ARNS,
      VERIFY_DEADLINE_SECONDS,
      DRIFT_INTERVAL_SECONDS,
      DRIFT_WATCH_AFTER_SETTLED_SECONDS,
      DRIFT_DESCRIBE_SHARE,
    ],
    optional: [
      VERIFY_INITIAL_DELAY_MS,
      VERIFY_MAX_DELAY_MS,
      KUBE_REQUEST_TIMEOUT_MS,
      KUBE_MAX_ATTEMPTS,
      ELB_DESCRIBE_RATE_PER_SECOND,
      ELB_DESCRIBE_BURST,
    ],
    runtime: [],
  },
  gate: {
    set: [
      HISTORY_TABLE_NAME,
      HISTORY_RETENTION_DAYS,
      CLUSTER_NAMES,
      CLUSTER_SECRET_ARNS,
      VERIFY_DEADLINE_SECONDS,
      WEBHOOK_TOKEN_SECRET_ARNS,
      WEBHOOK_TOKEN_SECRET_ARN,
    ],
    optional: [
      VERIFY_INITIAL_DELAY_MS,
      VERIFY_MAX_DELAY_MS,
      KUBE_REQUEST_TIMEOUT_MS,
      KUBE_MAX_ATTEMPTS,
      CLUSTER_NAME,
      WEBHOOK_TOKEN_CACHE_SECONDS,
      WEBHOOK_TOKEN_ROTATION_WINDOW_MINUTES,
      GATE_RESPONSE_RESERVE_MS,
      GATE_STORED_VERDICT_WAIT_MS,
    ],
    runtime: [],
  },
} as const satisfies Record<string, FunctionVariables>;
