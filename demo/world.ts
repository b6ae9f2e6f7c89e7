import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import {
  DRIFT_EVENT_PATTERN,
  ROLLOUT_EVENT_PATTERN,
  TRAFFIC_LOOK_TRIGGER_PATTERN,
  TRAFFIC_OBSERVED_EVENT_PATTERN,
  VERDICT_EVENT_PATTERN,
} from '../contract/event-catalog.js';
import { HISTORY_PARTITION_KEY, HISTORY_SORT_KEY } from '../contract/history-table.js';
import type { CallbackOutcome } from '../lambdas/core/callback/respond.js';
import { DriftEventDetail } from '../lambdas/core/contracts/drift-event.js';
import type { RolloutEventDetail } from '../lambdas/core/contracts/rollout-event.js';
import { TrafficObservedEventDetail } from '../lambdas/core/contracts/traffic-observed-event.js';
import { VerdictEventDetail } from '../lambdas/core/contracts/verdict-event.js';
import type { SentinelReport } from '../lambdas/sentinel/sentinel.js';
import { type AnalysisRunResult, analysisTemplatesIn, runAnalysisStep } from '../sim/argo-analysis.js';
import {
  type BlueGreenRollout,
  type BlueGreenRolloutOptions,
  type CanaryRollout,
  type CanaryRolloutOptions,
  SimulatedCluster,
  shortUser,
} from '../sim/argo-cluster.js';
import type { NotificationBody } from '../sim/argo-driver.js';
import { type CloudWatchSim, startCloudWatchSim } from '../sim/cloudwatch.js';
import { type DynamoDbSim, startDynamoDbSim } from '../sim/dynamodb.js';
import { type EksSim, eksAuthenticator, type IamIdentity, startEksSim } from '../sim/eks.js';
import { type Elbv2Sim, startElbv2Sim } from '../sim/elbv2/index.js';
import { type DeliveredEvent, type EventBridgeSim, startEventBridgeSim } from '../sim/eventbridge/index.js';
import { functionUrlEvent } from '../sim/function-url-event.js';
import { type FunctionUrlResult, startFunctionUrlServer } from '../sim/function-url-server.js';
import {
  generateClusterCertificates,
  type KubeObject,
  type KubeSim,
  startKubeSim,
} from '../sim/kube/index.js';
import { kustomizeBuild, readKustomization } from '../sim/kustomize.js';
import { rbacAuthorizer } from '../sim/rbac.js';
import { startSecretsManagerSim } from '../sim/secrets-manager.js';
import { sqsTarget, startEventSource, startSqsSim } from '../sim/sqs/index.js';
import { DEFAULT_PROFILE, serveStep, type TrafficProfile } from './alb-traffic.js';
import { type EmfRecord, startEmfCapture } from './emf.js';
import { type LoopbackGuard, startLoopbackGuard } from './loopback.js';

export const DEMO_CLUSTER = 'demo';
export const DEMO_REGION = 'eu-west-1';
/** The bearer token the cluster's notification Secret carries. */
const WEBHOOK_TOKEN = 'demo-webhook-token-0123456789abcdef';
const BUS = 'rollout-verifier';
/** The stack's one state table: verify's and callback's idempotency records. */
export const STATE_TABLE = 'rollout-verifier-state';
/** The demo's clock against the deployed one: the verify function's maximum poll delay, 5 s deployed, 1 s here. */
const DEMO_SPEEDUP = 5;
/** The verify function's timeout: the demo's deadlines are seconds, the stack's default is 45 s. */
const VERIFY_TIMEOUT_SECONDS = 45;
/** The traffic look's window and CloudWatch's publication delay: the stack's defaults. */
const TRAFFIC_WINDOW_SECONDS = 300;
const TRAFFIC_PUBLICATION_DELAY_SECONDS = 180;
/** The verdict history (lib/history.ts): every verdict, written by the recorder and the gate. */
export const HISTORY_TABLE = 'rollout-verifier-history';
/** The ClusterAnalysisTemplates deploy/cluster/analysis installs: the demo's Argo runs these. */
const ANALYSIS_TEMPLATES = analysisTemplatesIn(
  readFileSync(new URL('../deploy/cluster/analysis/clusteranalysistemplates.yaml', import.meta.url), 'utf8'),
);
/** The Secret every namespace with gated Rollouts holds (deploy/cluster/analysis/gate-secret.yaml). */
const GATE_SECRET = 'rollout-verifier-gate';

/**
 * Each function's role, as static demo credentials: every AWS request is SigV4-signed with them,
 * the EKS and DynamoDB simulators verify those signatures, and the EKS token each function signs
 * for the cluster is checked by the kube-sim's aws-iam-authenticator stand-in, so the Kubernetes
 * request log shows which function did what (access entries: verify → group
 * rollout-verifier-observer, callback → group rollout-verifier, as deploy/cluster/clusterroles.yaml).
 */
/**
 * The cluster's RBAC is exactly what deploy/cluster installs (with the promote component: the demo
 * promotes): kube-sim answers 403 to anything those roles do not grant each function's group.
 */
const DEPLOY_CLUSTER = new URL('../deploy/cluster/', import.meta.url);
const CLUSTER_RBAC = rbacAuthorizer(
  kustomizeBuild(DEPLOY_CLUSTER, { ...readKustomization(DEPLOY_CLUSTER), components: ['promote'] }).map(
    ({ manifest }) => manifest,
  ),
);

export const IDENTITIES = {
  ingest: identity('AKIADEMOINGEST000001', 'rollout-verifier-ingest', []),
  verify: identity('AKIADEMOVERIFY000001', 'rollout-verifier-verify', ['rollout-verifier-observer']),
  callback: identity('AKIADEMOCALLBACK0001', 'rollout-verifier-callback', ['rollout-verifier']),
  traffic: identity('AKIADEMOTRAFFIC00001', 'rollout-verifier-traffic', []),
  history: identity('AKIADEMOHISTORY00001', 'rollout-verifier-history', []),
  // The gate reads what verify reads: its access entry maps it to the observer group too.
  gate: identity('AKIADEMOGATE00000001', 'rollout-verifier-gate', ['rollout-verifier-observer']),
  sentinel: identity('AKIADEMOSENTINEL0001', 'rollout-verifier-sentinel', ['rollout-verifier-observer']),
} satisfies Record<string, IamIdentity>;
type FunctionName = keyof typeof IDENTITIES;

function identity(accessKeyId: string, roleName: string, kubernetesGroups: string[]): IamIdentity {
  return {
    accessKeyId,
    secretAccessKey: `${roleName}-demo-secret-key`.padEnd(40, 'x').slice(0, 40),
    roleName,
    sessionName: roleName,
    kubernetesGroups,
  };
}

export interface IngestAnswer {
  statusCode: number;
  body: Record<string, unknown>;
  /** The rollout event ingest put on the bus, when it accepted the notification. */
  published?: RolloutEventDetail;
}

export interface TimelineEntry {
  atMs: number;
  rollout: string;
  what: string;
}

/** One callback invocation that returned, and what it did to the cluster. */
export interface CallbackRecord {
  rollout: string;
  verdictId: string;
  verdict: VerdictEventDetail['verdict'];
  outcome: CallbackOutcome;
  /** A redelivery answered from the idempotency table: nothing was sent to the cluster. */
  replayed: boolean;
  /** The writes it made to the Rollout (merge patches, without the precondition metadata). */
  patches: Array<{ subresource: 'status' | 'spec'; patch: unknown }>;
  events: Array<{ type: string; reason: string; message: string }>;
}

/**
 * Everything the pipeline talks to, on loopback: the ELBv2 simulator, Secrets Manager holding the
 * webhook token, an EventBridge bus whose rules use the stack's own patterns, EKS DescribeCluster,
 * the cluster's Kubernetes API (kube-sim, EKS-token authentication), DynamoDB for idempotency, and
 * the ingest, verify and callback Lambda handler modules, unmodified, configured through the
 * environment variables the stack sets. One World per process: the handler modules read their
 * configuration once, on import, like a Lambda cold start.
 */
export interface World {
  elb: Elbv2Sim;
  bus: EventBridgeSim;
  kube: KubeSim;
  eks: EksSim;
  dynamodb: DynamoDbSim;
  /** CloudWatch: the ALB metrics the traffic look reads. */
  cloudwatch: CloudWatchSim;
  /** Argo Rollouts and the AWS Load Balancer Controller, playing against kube (and elb). */
  cluster: SimulatedCluster;
  timeline: TimelineEntry[];
  /** CloudWatch EMF records the functions printed (Powertools Metrics), oldest first. */
  metrics: EmfRecord[];
  /** Every outbound connection the process opened while the world ran. */
  network: LoopbackGuard;
  /** Argo posts a notification to the ingest function, which validates, normalizes and publishes it. */
  notify(body: NotificationBody, options?: { token?: string }): Promise<IngestAnswer>;
  /** Waits until every delivery on the bus has been handled and Argo has reacted, repeatedly, until all is quiet. */
  settle(): Promise<void>;
  verdictsFor(rollout: string): VerdictEventDetail[];
  /** Every body Argo posted for one rollout, in order (what the conformance test compares with the lab's). */
  notificationsFor(rollout: string): NotificationBody[];
  /** The traffic-observed events about one rollout, in order. */
  trafficObservedFor(rollout: string): TrafficObservedEventDetail[];
  /** How the rollout's load balancer serves its steps (default: DEFAULT_PROFILE, the configured split). */
  serveTraffic(rollout: string, profile: TrafficProfile): void;
  /** The AnalysisRuns Argo ran for this rollout's analysis steps, in order. */
  analysisRunsFor(rollout: string): AnalysisRunResult[];
  /** The analysis gate's loopback Function URL. */
  gateUrl: string;
  /** The drift events the sentinel published about this rollout. */
  driftsFor(rollout: string): DriftEventDetail[];
  /** One run of the drift sentinel, as its EventBridge Scheduler schedule invokes it. */
  runSentinel(): Promise<SentinelReport>;
  /** Callback invocations that returned, for one rollout, in order. */
  callbacksFor(rollout: string): CallbackRecord[];
  /** EventBridge delivers each verdict of this rollout twice (at-least-once delivery). */
  deliverVerdictsTwice(rollout: string): void;
  canaryRollout(options: CanaryRolloutOptions): CanaryRollout;
  blueGreenRollout(options: BlueGreenRolloutOptions): BlueGreenRollout;
  note(rollout: string, what: string): void;
  close(): Promise<void>;
}

export interface WorldSettings {
  deadlineSeconds: number;
  /** Lambda's retry delay for a failed asynchronous invocation (minutes in AWS). Default 300 ms. */
  retryDelayMs?: number;
}

let started = false;

export async function startWorld(settings: WorldSettings): Promise<World> {
  if (started) {
    // The handler modules are imported once and keep the first world's endpoints and caches.
    throw new Error(
      'startWorld: one World per process (the Lambda handler modules read their configuration once, on import)',
    );
  }
  started = true;
  const startedAt = Date.now();
  const network = startLoopbackGuard();
  const emf = startEmfCapture();
  const authenticator = eksAuthenticator({
    clusterName: DEMO_CLUSTER,
    region: DEMO_REGION,
    identities: [IDENTITIES.verify, IDENTITIES.callback, IDENTITIES.gate, IDENTITIES.sentinel],
  });
  const [elb, bus, secrets, kube, dynamodb] = await Promise.all([
    // The account's Describe budget (40 burst, 10 per second) on the demo's clock: verifications
    // poll DEMO_SPEEDUP times faster than deployed (VERIFY_MAX_DELAY_MS below), so it refills as fast.
    startElbv2Sim({ region: DEMO_REGION, rateLimit: { burst: 40, refillPerSecond: 10 * DEMO_SPEEDUP } }),
    startEventBridgeSim({ region: DEMO_REGION }),
    startSecretsManagerSim(WEBHOOK_TOKEN),
    generateClusterCertificates().then((certificates) =>
      startKubeSim({ certificates, authenticate: authenticator.authenticate, authorize: CLUSTER_RBAC }),
    ),
    startDynamoDbSim({
      tables: {
        [STATE_TABLE]: 'id',
        [HISTORY_TABLE]: { partitionKey: HISTORY_PARTITION_KEY, sortKey: HISTORY_SORT_KEY },
      },
      credentials: Object.fromEntries(
        Object.values(IDENTITIES).map((who) => [who.accessKeyId, who.secretAccessKey]),
      ),
    }),
  ]);
  // CloudWatch's clock runs ahead of the demo's: the traffic look's queue holds each look for the
  // step's window and CloudWatch's delay (8 minutes), which the demo does not wait out.
  let cloudWatchAheadMs = 0;
  const cloudwatch = await startCloudWatchSim({
    now: () => Date.now() + cloudWatchAheadMs,
    publicationDelayMs: 2 * 60_000,
    credentials: { [IDENTITIES.traffic.accessKeyId]: IDENTITIES.traffic.secretAccessKey },
  });
  // The looks queue (lib/verify.ts): the rollout rule's target, which verify reads in batches and
  // sends the verifications that must wait back to, with a delay. Only verify signs requests to it.
  const sqs = await startSqsSim({
    region: DEMO_REGION,
    credentials: { [IDENTITIES.verify.accessKeyId]: IDENTITIES.verify.secretAccessKey },
  });
  const lookDeadLetters = sqs.createQueue('rollout-verifier-look-dead-letters');
  const looksQueue = sqs.createQueue('rollout-verifier-looks', {
    VisibilityTimeout: String(6 * VERIFY_TIMEOUT_SECONDS),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: sqs.queueArn(lookDeadLetters), maxReceiveCount: 5 }),
  });
  const eks = await startEksSim({
    region: DEMO_REGION,
    clusters: [{ name: DEMO_CLUSTER, endpoint: kube.url, caPem: kube.caPem }],
    identities: [IDENTITIES.verify, IDENTITIES.callback, IDENTITIES.gate, IDENTITIES.sentinel],
  });
  const environment: Record<string, string> = {
    AWS_REGION: DEMO_REGION,
    AWS_ACCESS_KEY_ID: IDENTITIES.ingest.accessKeyId,
    AWS_SECRET_ACCESS_KEY: IDENTITIES.ingest.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: elb.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_ENDPOINT_URL_EKS: eks.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    VERIFY_QUEUE_URL: looksQueue,
    // The demo runs one verify module (one container) for every batch: the share of the account's
    // Describe budget is not divided. The budget itself is on the demo's clock, as the simulator's.
    VERIFY_LOOK_CONCURRENCY: '1',
    ELB_DESCRIBE_RATE_PER_SECOND: String(10 * DEMO_SPEEDUP),
    // The traffic look, as the stack deploys it by default.
    TRAFFIC_WINDOW_SECONDS: String(TRAFFIC_WINDOW_SECONDS),
    TRAFFIC_PUBLICATION_DELAY_SECONDS: String(TRAFFIC_PUBLICATION_DELAY_SECONDS),
    TRAFFIC_TOLERANCE: '0.05',
    TRAFFIC_MIN_REQUESTS: '100',
    // As the stack deploys it: the demo cluster's own token secret.
    WEBHOOK_TOKEN_SECRET_ARNS: JSON.stringify({ [DEMO_CLUSTER]: secrets.secretArn }),
    EVENT_BUS_NAME: BUS,
    VERIFY_DEADLINE_SECONDS: String(settings.deadlineSeconds),
    VERIFY_INITIAL_DELAY_MS: '250',
    VERIFY_MAX_DELAY_MS: String(5_000 / DEMO_SPEEDUP),
    CALLBACK_PAUSE_SETTLE_MS: String(2_000 / DEMO_SPEEDUP),
    // verify and callback: the cluster through eks:DescribeCluster and an EKS token, as deployed.
    CLUSTER_NAMES: DEMO_CLUSTER,
    KUBE_REQUEST_TIMEOUT_MS: '2000',
    STATE_TABLE_NAME: STATE_TABLE,
    HISTORY_TABLE_NAME: HISTORY_TABLE,
    HISTORY_RETENTION_DAYS: '90',
    // The sentinel's schedule interval, shortened: a rollout verified more than 1 s ago is due.
    DRIFT_INTERVAL_SECONDS: '1',
    // Half the account's ELBv2 Describe budget (20 burst, 5/s): the demo's 3 s deadline leaves no
    // time to wait for tokens (the stack's default is a quarter, with a 30 s deadline).
    DRIFT_DESCRIBE_SHARE: '0.5',
    ON_FAILURE: 'abort',
    ON_SUCCESS: 'none',
    ON_INCONCLUSIVE: 'none',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
    // Metrics on, printed through the global console (dev mode), where the demo collects the EMF.
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_DEV: 'true',
  };
  // Whatever the shell holds must not reach the functions: no session token, no profile.
  const removed = ['AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL'];
  const previousEnvironment = Object.fromEntries(
    [...Object.keys(environment), 'AWS_LAMBDA_FUNCTION_NAME', ...removed].map((key) => [
      key,
      process.env[key],
    ]),
  );
  for (const key of removed) delete process.env[key];
  Object.assign(process.env, environment);
  // Imported only now, one after the other: like a Lambda cold start, each module reads its
  // configuration on load (the callback names itself by its function name).
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'rollout-verifier-verify';
  const { handler: verify } = await import('../lambdas/verify/handler.js');
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'rollout-verifier-callback';
  const { handler: callback } = await import('../lambdas/callback/handler.js');
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'rollout-verifier-ingest';
  const { handler: ingest } = await import('../lambdas/ingest/handler.js');
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'rollout-verifier-traffic';
  const { handler: traffic } = await import('../lambdas/traffic/handler.js');
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'rollout-verifier-history';
  const { handler: recordHistory } = await import('../lambdas/history/handler.js');
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'rollout-verifier-gate';
  const { handler: gate } = await import('../lambdas/gate/handler.js');
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'rollout-verifier-sentinel';
  const { handler: sentinel } = await import('../lambdas/sentinel/handler.js');

  const timeline: TimelineEntry[] = [];
  const verdicts: VerdictEventDetail[] = [];
  const trafficObserved: TrafficObservedEventDetail[] = [];
  const profiles = new Map<string, TrafficProfile>();
  const analysisRuns: Array<{ rollout: string; run: AnalysisRunResult }> = [];
  const drifts: DriftEventDetail[] = [];
  const callbacks: CallbackRecord[] = [];
  const posted: Array<{ rollout: string; body: NotificationBody }> = [];
  const twice = new Set<string>();
  const reportedEvents = new Set<string>();
  const retryDelayMs = settings.retryDelayMs ?? 300;
  const note = (rollout: string, what: string) =>
    timeline.push({ atMs: Date.now() - startedAt, rollout, what });

  /**
   * A function's own AWS credentials, as its execution environment has them. The three functions
   * share this process, and their invocations overlap: the credential variables of process.env
   * answer with the identity of the function whose invocation reads them (its async context), so a
   * client resolving its credentials while another function runs still gets its own role.
   */
  const runningAs = new AsyncLocalStorage<FunctionName>();
  const processEnvironment = process.env;
  process.env = new Proxy(processEnvironment, {
    get(target, key, receiver) {
      const name = runningAs.getStore();
      if (name && key === 'AWS_ACCESS_KEY_ID') return IDENTITIES[name].accessKeyId;
      if (name && key === 'AWS_SECRET_ACCESS_KEY') return IDENTITIES[name].secretAccessKey;
      return Reflect.get(target, key, receiver);
    },
    // Writes go to the real environment as they are (process.env takes plain assignments only).
    set(target, key, value) {
      if (typeof key === 'string') target[key] = String(value);
      return true;
    },
  });
  const asFunction = <T>(name: FunctionName, invoke: () => Promise<T>): Promise<T> =>
    runningAs.run(name, invoke);

  /** Attempts running now, per function and idempotency key. */
  const running = new Map<string, Set<Promise<unknown>>>();

  /**
   * Lambda's asynchronous invocation: on an error the event is retried twice, a minute or more
   * later — by then any other invocation for the same event has finished (the functions time out
   * well within that). The demo keeps that order without the wait: a retry starts once the other
   * attempts for the same key are done, plus `retryDelayMs`.
   */
  async function invokeAsync<T>(
    name: FunctionName,
    key: string,
    rollout: string,
    invoke: (context: Context) => Promise<T>,
    timeoutSeconds: number,
  ): Promise<T> {
    const slot = `${name}/${key}`;
    for (let attempt = 1; ; attempt++) {
      const dynamoBefore = dynamodb.calls.length;
      const others = running.get(slot) ?? new Set<Promise<unknown>>();
      running.set(slot, others);
      const pending = asFunction(name, () =>
        invoke(lambdaContext(`rollout-verifier-${name}`, timeoutSeconds)),
      );
      others.add(pending);
      try {
        return await pending;
      } catch (error) {
        const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        if (attempt >= 3) {
          note(
            rollout,
            `${name}: attempt ${attempt} failed (${why}); Lambda sends the event to the dead-letter queue`,
          );
          throw error;
        }
        const deleted = dynamodb.calls
          .slice(dynamoBefore)
          .some(
            (call) => call.operation === 'DeleteItem' && call.accessKeyId === IDENTITIES[name].accessKeyId,
          );
        note(
          rollout,
          `${name}: attempt ${attempt} failed (${clip(why, 100)}); Lambda retries the event later${
            deleted && error instanceof Error && error.name === 'IdempotencyAlreadyInProgressError'
              ? " (and the rejected attempt deleted the running invocation's idempotency record: DeleteItem, Powertools issue #5675)"
              : ''
          }`,
        );
        others.delete(pending);
        await Promise.allSettled([...others]);
        await sleep(retryDelayMs);
      } finally {
        others.delete(pending);
      }
    }
  }

  bus.addRule({
    name: 'verify-rollout-events',
    pattern: ROLLOUT_EVENT_PATTERN,
    target: sqsTarget(sqs, looksQueue),
  });
  // Lambda's event source mapping for the looks queue, as the stack configures it.
  const looks = startEventSource({
    sqs,
    queueUrl: looksQueue,
    batchSize: 10,
    maximumConcurrency: 5,
    pollIntervalMs: 1_000,
    invoke: (event) =>
      asFunction('verify', () =>
        verify(event as never, lambdaContext('rollout-verifier-verify', VERIFY_TIMEOUT_SECONDS)),
      ),
    onInvocationError: (error) =>
      note(
        'verify',
        `verify: a batch failed (${error instanceof Error ? error.message : String(error)}); SQS delivers it again`,
      ),
  });

  bus.addRule({
    name: 'collect-verdicts',
    pattern: VERDICT_EVENT_PATTERN,
    target: async (event) => {
      const verdict = VerdictEventDetail.parse(event.detail);
      verdicts.push(verdict);
      const codes = [...new Set(verdict.findings.map((finding) => finding.code))];
      note(
        `${verdict.rollout.namespace}/${verdict.rollout.name}`,
        `${event['detail-type']}${codes.length ? ` (${codes.join(', ')})` : ''} after ${verdict.attempts} observation(s), ${(verdict.durationMs / 1000).toFixed(1)}s`,
      );
    },
  });

  const callbackOnce = async (event: DeliveredEvent) => {
    const verdict = VerdictEventDetail.parse(event.detail);
    const rollout = `${verdict.rollout.namespace}/${verdict.rollout.name}`;
    const rolloutPath = `/apis/argoproj.io/v1alpha1/namespaces/${verdict.rollout.namespace}/rollouts/${verdict.rollout.name}`;
    let requestsBefore = 0;
    const outcome = await invokeAsync(
      'callback',
      verdict.verdictId,
      rollout,
      (context) => {
        requestsBefore = kube.requests.length;
        return callback(event as never, context) as Promise<CallbackOutcome>;
      },
      30,
    );
    const mine = kube.requests
      .slice(requestsBefore)
      .filter(
        (request) =>
          request.path.startsWith(rolloutPath) && shortUser(request.user) === IDENTITIES.callback.roleName,
      );
    const replayed = mine.length === 0;
    const patches = mine
      .filter((request) => request.method === 'PATCH' && request.status < 300)
      .map((request) => {
        const { metadata: _preconditions, ...patch } = request.body as Record<string, unknown>;
        return {
          subresource: request.path.endsWith('/status') ? ('status' as const) : ('spec' as const),
          patch,
        };
      });
    const events = kube
      .events(verdict.rollout.namespace)
      .filter(
        (object: KubeObject) =>
          object.metadata.annotations?.['rollout-verifier.io/verdict-id'] === verdict.verdictId &&
          !reportedEvents.has(String(object.metadata.name)),
      )
      .map((object) => {
        reportedEvents.add(String(object.metadata.name));
        return { type: String(object.type), reason: String(object.reason), message: String(object.message) };
      });
    callbacks.push({
      rollout,
      verdictId: verdict.verdictId,
      verdict: verdict.verdict,
      outcome,
      replayed,
      patches,
      events,
    });
    if (replayed) {
      note(
        rollout,
        `callback: verdict ${verdict.verdictId.slice(0, 12)}… delivered again: answered from the idempotency table (stored outcome "${outcome.action}"), nothing sent to the cluster`,
      );
      return;
    }
    note(rollout, `callback: ${describeAction(rollout, outcome, patches)}`);
    for (const created of events)
      note(rollout, `  Event ${created.type} ${created.reason}: ${clip(created.message, 120)}`);
  };

  // The history recorder: every verdict into the history table (a redelivery finds its item there).
  bus.addRule({
    name: 'history-verdicts',
    pattern: VERDICT_EVENT_PATTERN,
    target: async (event) => {
      const detail = event.detail as { verdictId?: string };
      await invokeAsync(
        'history',
        String(detail.verdictId),
        describe(event.detail),
        (context) => recordHistory(event as never, context),
        10,
      );
    },
  });

  // Drift events: alarms and the operators' own rules consume them (the callback does not).
  bus.addRule({
    name: 'collect-drift',
    pattern: DRIFT_EVENT_PATTERN,
    target: async (event) => {
      const drift = DriftEventDetail.parse(event.detail);
      drifts.push(drift);
      const codes = [...new Set(drift.findings.map((finding) => finding.code))];
      note(
        `${drift.rollout.namespace}/${drift.rollout.name}`,
        `${event['detail-type']} (${codes.join(', ')}) at step ${drift.step.index}: last verified ${drift.drift.previousVerdict} at ${drift.drift.previousVerifiedAt}, now ${drift.findings[0]?.observed ?? '?'} where ${drift.findings[0]?.expected ?? '?'} is expected`,
      );
    },
  });

  // The analysis gate behind its Function URL, on loopback: Argo's web metric calls it over HTTP.
  const gateServer = await startFunctionUrlServer(async (event) => {
    return (await asFunction('gate', () =>
      gate(event as never, lambdaContext('rollout-verifier-gate', 60)),
    )) as FunctionUrlResult;
  });

  bus.addRule({
    name: 'callback-verdicts',
    pattern: VERDICT_EVENT_PATTERN,
    target: async (event) => {
      const detail = event.detail as { rollout?: { namespace?: string; name?: string } };
      if (!twice.has(describe(detail))) return callbackOnce(event);
      await Promise.all([callbackOnce(event), callbackOnce(structuredClone(event))]);
    },
  });
  /**
   * The traffic look's delay queue (SQS, DeliveryDelay = window + publication delay): a look waits
   * there until everything else has settled, then runs alone — after the ALB has served its step
   * for the window (CloudWatch's clock moved past the window and its delay) — and the traffic
   * function gets the SQS message. One at a time, so each function keeps its own credentials.
   */
  const queuedLooks: DeliveredEvent[] = [];
  bus.addRule({
    name: 'traffic-look-queue',
    pattern: TRAFFIC_LOOK_TRIGGER_PATTERN,
    target: async (event) => {
      queuedLooks.push(event);
    },
  });

  async function runQueuedLooks(): Promise<void> {
    for (let event = queuedLooks.shift(); event; event = queuedLooks.shift()) {
      const verdict = VerdictEventDetail.parse(event.detail);
      const rollout = describe(verdict);
      const decidedAt = Date.parse(verdict.decidedAt);
      const closesAt = decidedAt + TRAFFIC_WINDOW_SECONDS * 1000;
      cloudwatch.clear();
      // CloudWatch Logs turns the functions' EMF lines into metrics: the verify function's
      // per-Rollout verdict counters tell the look where the rollout moved on.
      for (const record of emf.records) {
        for (const [metricName, value] of Object.entries(record.values)) {
          cloudwatch.put(
            {
              namespace: record.namespace,
              metricName,
              dimensions: Object.entries(record.dimensions).map(([Name, Value]) => ({ Name, Value })),
            },
            record.timestamp,
            { sampleCount: 1, sum: value, minimum: value, maximum: value },
          );
        }
      }
      note(
        rollout,
        serveStep(cloudwatch, elb, verdict, profiles.get(rollout) ?? DEFAULT_PROFILE, decidedAt, closesAt),
      );
      cloudWatchAheadMs = closesAt + TRAFFIC_PUBLICATION_DELAY_SECONDS * 1000 - Date.now();
      const answer = await asFunction('traffic', () =>
        traffic(
          {
            Records: [
              { messageId: crypto.randomUUID(), body: JSON.stringify(event), eventSource: 'aws:sqs' },
            ],
          } as never,
          lambdaContext('rollout-verifier-traffic', 30),
        ),
      );
      if (answer.batchItemFailures.length > 0) note(rollout, 'traffic: the look failed; SQS redelivers it');
      await bus.drain();
    }
  }

  bus.addRule({
    name: 'collect-traffic-observed',
    pattern: TRAFFIC_OBSERVED_EVENT_PATTERN,
    target: async (event) => {
      const detail = TrafficObservedEventDetail.parse(event.detail);
      trafficObserved.push(detail);
      const interval = detail.interval
        ? ` (95 % ${percent(detail.interval.low)}–${percent(detail.interval.high)})`
        : '';
      const codes = [...new Set(detail.findings.map((finding) => finding.code))];
      const requests = detail.sides.reduce((sum, side) => sum + side.requests, 0);
      const what =
        detail.observedShare === undefined
          ? (detail.findings[0]?.message ?? 'nothing served')
          : `canary served ${percent(detail.observedShare)}${interval} of ${requests} requests, configured ${percent(detail.configuredShare)} ± ${percent(detail.tolerance)}`;
      note(
        describe(detail),
        `${event['detail-type']}${codes.length ? ` (${codes.join(', ')})` : ''}: ${what}`,
      );
    },
  });

  async function notify(body: NotificationBody, { token = WEBHOOK_TOKEN } = {}): Promise<IngestAnswer> {
    const rollout = `${(body.rollout.metadata as { namespace: string }).namespace}/${(body.rollout.metadata as { name: string }).name}`;
    posted.push({ rollout, body: structuredClone(body) });
    const request = functionUrlEvent({
      body: JSON.stringify(body),
      token,
      query: { cluster: DEMO_CLUSTER },
    });
    const response = await asFunction('ingest', () =>
      ingest(request as never, lambdaContext('rollout-verifier-ingest', 10)),
    );
    const answer: IngestAnswer = {
      statusCode: response.statusCode,
      body: JSON.parse(response.body ?? '{}'),
    };
    const eventId = answer.body.eventId;
    answer.published = bus
      .events()
      .map((record) => record.event.detail as RolloutEventDetail)
      .find((detail) => detail.eventId === eventId);
    const detail = answer.published;
    note(
      rollout,
      detail
        ? `Argo → ingest ${answer.statusCode}: ${body.trigger} at step ${detail.step.index}, expected canary ${detail.expected.canaryWeight} / stable ${detail.expected.stableWeight}`
        : `Argo → ingest ${answer.statusCode}: ${String(answer.body.error ?? answer.body.reason ?? 'not published')}`,
    );
    return answer;
  }

  /** The Secret an AnalysisRun reads its gate args from, in a namespace with gated Rollouts. */
  const gateSecrets = new Set<string>();
  const gateSecret = (namespace: string) => {
    if (gateSecrets.has(namespace)) return;
    gateSecrets.add(namespace);
    const data = { url: gateServer.url, cluster: DEMO_CLUSTER, token: WEBHOOK_TOKEN };
    kube.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: GATE_SECRET, namespace },
      type: 'Opaque',
      data: Object.fromEntries(
        Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
      ),
    });
  };
  const cluster = new SimulatedCluster({
    kube,
    elb,
    cluster: DEMO_CLUSTER,
    notify,
    note,
    // Argo's analysis controller: the AnalysisRun's web metric calls the gate over HTTP.
    analysis: async (rollout, step, stepIndex) => {
      const run = await runAnalysisStep(rollout, step, stepIndex, {
        templates: ANALYSIS_TEMPLATES,
        secretValue: (namespace, name, key) => {
          const secret = kube.object('v1', 'secrets', namespace, name) as
            | { data?: Record<string, string> }
            | undefined;
          const value = secret?.data?.[key];
          return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
        },
      });
      analysisRuns.push({ rollout: `${rollout.metadata.namespace}/${rollout.metadata.name}`, run });
      return run;
    },
  });

  const world: World = {
    elb,
    bus,
    kube,
    eks,
    dynamodb,
    cloudwatch,
    cluster,
    timeline,
    metrics: emf.records,
    network,
    note,
    notify,
    async settle() {
      // Verify runs from its queue now: a delivery on the bus is handled once the looks queue is
      // empty too, and the verdicts verify published on the bus are delivered in turn.
      const quiet = async () => {
        await bus.drain();
        await looks.idle();
        await bus.drain();
      };
      for (;;) {
        await quiet();
        if (!(await cluster.reconcile())) break;
      }
      await quiet();
      await runQueuedLooks();
    },
    verdictsFor: (rollout) =>
      verdicts.filter((verdict) => `${verdict.rollout.namespace}/${verdict.rollout.name}` === rollout),
    callbacksFor: (rollout) => callbacks.filter((record) => record.rollout === rollout),
    notificationsFor: (rollout) =>
      posted.filter((record) => record.rollout === rollout).map((record) => record.body),
    trafficObservedFor: (rollout) => trafficObserved.filter((detail) => describe(detail) === rollout),
    serveTraffic: (rollout, profile) => {
      profiles.set(rollout, profile);
    },
    deliverVerdictsTwice: (rollout) => {
      twice.add(rollout);
    },
    canaryRollout: (options) => {
      if (options.steps.some((step) => 'analysis' in step)) gateSecret(options.namespace ?? 'shop');
      return cluster.canary(options);
    },
    driftsFor: (rollout) =>
      drifts.filter((drift) => `${drift.rollout.namespace}/${drift.rollout.name}` === rollout),
    async runSentinel() {
      const report = (await asFunction('sentinel', () =>
        sentinel({}, lambdaContext('rollout-verifier-sentinel', 300)),
      )) as SentinelReport;
      await bus.drain();
      return report;
    },
    analysisRunsFor: (rollout) =>
      analysisRuns.filter((entry) => entry.rollout === rollout).map(({ run }) => run),
    gateUrl: gateServer.url,
    blueGreenRollout: (options) => cluster.blueGreen(options),
    async close() {
      await looks.stop();
      emf.stop();
      network.stop();
      process.env = processEnvironment;
      await Promise.all([
        elb.close(),
        bus.close(),
        secrets.close(),
        kube.close(),
        eks.close(),
        dynamodb.close(),
        cloudwatch.close(),
        gateServer.close(),
        sqs.close(),
      ]);
      for (const [key, value] of Object.entries(previousEnvironment)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    },
  };
  return world;
}

function describeAction(
  rollout: string,
  outcome: CallbackOutcome,
  patches: CallbackRecord['patches'],
): string {
  const writes = patches.flatMap(({ patch }) => leaves(patch)).join(', ');
  switch (outcome.action) {
    case 'aborted':
      return `aborted ${rollout} (${writes || 'no write'})`;
    case 'promoted':
      return `promoted ${rollout} (${writes || 'no write'})`;
    case 'rollout-gone':
      return `${rollout} is gone: ${outcome.reason}`;
    default:
      return `no action on ${rollout}: ${outcome.reason}`;
  }
}

/** `{"status":{"abort":true}}` → `status.abort=true` */
function leaves(value: unknown, path = ''): string[] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([key, inner]) => leaves(inner, path ? `${path}.${key}` : key));
  }
  return [`${path}=${JSON.stringify(value)}`];
}

function describe(detail: unknown): string {
  const rollout = (detail as { rollout?: { namespace?: string; name?: string } }).rollout;
  return `${rollout?.namespace ?? '?'}/${rollout?.name ?? '?'}`;
}

function clip(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

const percent = (share: number) => `${(share * 100).toFixed(1)} %`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function lambdaContext(functionName: string, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    functionName,
    awsRequestId: crypto.randomUUID(),
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as Context;
}
