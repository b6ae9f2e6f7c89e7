import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSEvent } from 'aws-lambda';
import { ROLLOUT_EVENT_PATTERN, VERDICT_EVENT_PATTERN } from '../contract/event-catalog.js';
import type { VerdictEventDetail } from '../lambdas/core/contracts/verdict-event.js';
import { CanaryRolloutDriver, type NotificationBody } from '../sim/argo-driver.js';
import { type Elbv2Sim, type Elbv2SimOptions, type IngressAlb, startElbv2Sim } from '../sim/elbv2/index.js';
import { type DeliveredEvent, type EventBridgeSim, startEventBridgeSim } from '../sim/eventbridge/index.js';
import { functionUrlEvent } from '../sim/function-url-event.js';
import { startSecretsManagerSim } from '../sim/secrets-manager.js';
import {
  type EventSource,
  eventBridgeMessageBody,
  type SqsSim,
  sqsTarget,
  startEventSource,
  startSqsSim,
} from '../sim/sqs/index.js';
import type { VerifyUsage } from './cost.js';
import { FunctionModel } from './lambda-model.js';

/**
 * The pipeline the demo runs (demo/world.ts), built from the deployment bundles instead of the
 * TypeScript sources: Argo's notification → ingest (Function URL, bearer token from a loopback
 * Secrets Manager) → PutEvents on a loopback EventBridge whose rules use the stack's patterns →
 * the looks queue (loopback SQS) → verify (the SQS event source: batches of 10, at most the
 * reserved concurrency at once; verifications that wait are sent back with a delay) → verdict
 * PutEvents → a collector rule.
 * Everything listens on 127.0.0.1 and stops with `close()`.
 */

export const CLUSTER = 'bench';
/** The functions' environment for an account without a Describe budget: verify's pacing never waits. */
export const UNLIMITED_DESCRIBE_BUDGET = {
  ELB_DESCRIBE_RATE_PER_SECOND: '100000',
  ELB_DESCRIBE_BURST: '100000',
};
/** Where the cluster's notifications come from (its NAT gateway), for the source allow-list. */
export const ARGO_SOURCE_IP = '203.0.113.7';

/** A request on its way to the ingest function, with the address it comes from. */
export interface WebhookCall {
  sourceIp: string;
  event: unknown;
}
export type InvokeAnswer = Awaited<ReturnType<FunctionModel['invoke']>>;
const BUS = 'rollout-verifier';
const WEBHOOK_TOKEN = 'bench-webhook-token-0123456789abcdef';
/** The stack's verify timeout: deadline 30 s + publish reserve 5 s + headroom. */
export const VERIFY_TIMEOUT_SECONDS = 40;
const REPLICAS = 4;

export interface WorldOptions {
  bundles: { verify: string; ingest: string };
  elb?: Elbv2SimOptions;
  /** The stack reserves 5 for verify and 5 for ingest; verify's event source runs as many at once. */
  verifyConcurrency?: number;
  ingestConcurrency?: number;
  /** Extra verify environment (the production defaults apply otherwise). */
  verifyEnvironment?: Record<string, string>;
  /** Extra ingest environment, e.g. ALLOWED_SOURCE_CIDRS. */
  ingestEnvironment?: Record<string, string>;
  /** See FunctionModelOptions.invocationOverheadMs (ingest only). */
  ingestInvocationOverheadMs?: number;
}

export interface ReceivedVerdict {
  verdict: VerdictEventDetail;
  at: number;
}

export interface BenchRollout {
  name: string;
  argo: CanaryRolloutDriver;
  alb: IngressAlb;
}

export class World {
  /** While false, rollout events stay on the bus (nothing invokes verify): for warm-ups that call handlers directly. */
  routeRolloutEvents = true;
  readonly verdicts = new Map<string, ReceivedVerdict[]>();
  private readonly verdictWaiters = new Map<string, Array<(verdict: ReceivedVerdict) => void>>();
  private previousEnvironment: Record<string, string | undefined> = {};
  private closers: Array<() => Promise<void>> = [];

  /** The longest a rollout event waited on the looks queue before its first look (continuations, which wait on purpose, left out). */
  maxLooksQueueWaitMs = 0;
  private looks: EventSource | undefined;

  private constructor(
    readonly elb: Elbv2Sim,
    readonly bus: EventBridgeSim,
    readonly ingest: FunctionModel,
    readonly verify: FunctionModel,
    readonly sqs: SqsSim,
    readonly looksQueueUrl: string,
  ) {}

  static async start(options: WorldOptions): Promise<World> {
    const elb = await startElbv2Sim({ region: 'eu-west-1', seed: 'bench', ...options.elb });
    const bus = await startEventBridgeSim({ region: 'eu-west-1' });
    const secrets = await startSecretsManagerSim(WEBHOOK_TOKEN);
    const sqs = await startSqsSim({ region: 'eu-west-1' });
    const looksQueueUrl = sqs.createQueue('rollout-verifier-looks', {
      VisibilityTimeout: String(6 * VERIFY_TIMEOUT_SECONDS),
    });
    const verifyConcurrency = options.verifyConcurrency ?? 5;
    const environment: Record<string, string> = {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: elb.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      ELB_DESCRIBE_RATE_PER_SECOND: '10',
      ELB_DESCRIBE_BURST: '40',
      VERIFY_QUEUE_URL: looksQueueUrl,
      VERIFY_LOOK_CONCURRENCY: String(verifyConcurrency),
      WEBHOOK_TOKEN_SECRET_ARNS: JSON.stringify({ [CLUSTER]: secrets.secretArn }),
      EVENT_BUS_NAME: BUS,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...options.verifyEnvironment,
      ...options.ingestEnvironment,
    };
    const ingest = new FunctionModel({
      name: 'rollout-verifier-ingest',
      bundle: options.bundles.ingest,
      reservedConcurrency: options.ingestConcurrency ?? 5,
      timeoutSeconds: 10,
      invocationOverheadMs: options.ingestInvocationOverheadMs ?? 0,
    });
    const verify = new FunctionModel({
      name: 'rollout-verifier-verify',
      bundle: options.bundles.verify,
      reservedConcurrency: verifyConcurrency,
      timeoutSeconds: VERIFY_TIMEOUT_SECONDS,
    });
    const world = new World(elb, bus, ingest, verify, sqs, looksQueueUrl);
    world.previousEnvironment = Object.fromEntries(
      Object.keys(environment).map((key) => [key, process.env[key]]),
    );
    // Set before any container imports its bundle: like a cold start, each reads its configuration on load.
    Object.assign(process.env, environment);
    world.closers.push(() =>
      Promise.all([elb.close(), bus.close(), secrets.close(), sqs.close()]).then(() => undefined),
    );

    const toLooksQueue = sqsTarget(sqs, looksQueueUrl);
    bus.addRule({
      name: 'verify-rollout-events',
      pattern: ROLLOUT_EVENT_PATTERN,
      target: async (event) => {
        if (world.routeRolloutEvents) await toLooksQueue(event);
      },
    });
    // Lambda's event source mapping, as lib/verify.ts configures it: batches of up to 10, as many
    // invocations at once as verify's reserved concurrency (so none is ever throttled).
    world.looks = startEventSource({
      sqs,
      queueUrl: looksQueueUrl,
      batchSize: 10,
      // (the mapping's minimum is 2: with one container, a second batch waits for it, as Lambda's
      // poller backs off when the function is throttled)
      maximumConcurrency: Math.max(2, verifyConcurrency),
      invoke: async (event) => {
        world.noteQueueWaits(event);
        for (;;) {
          const answer = await verify.invoke(event);
          if (!answer.throttled) return answer.result;
          await sleep(50);
        }
      },
    });
    bus.addRule({
      name: 'collect-verdicts',
      pattern: VERDICT_EVENT_PATTERN,
      target: async (event) => world.receive(event),
    });
    return world;
  }

  /**
   * An ingress ALB the way the load balancer controller builds it, for rollout `name` (HTTP and
   * HTTPS listeners); with `group`, the rollout's Ingress joins that IngressGroup's shared ALB.
   */
  addRollout(name: string, canaryWeight = 0, group?: string): BenchRollout {
    const argo = new CanaryRolloutDriver({
      namespace: 'shop',
      name,
      replicas: REPLICAS,
      steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }, { pause: {} }, { setWeight: 100 }],
      ingress: name,
      stableService: name,
      canaryService: `${name}-canary`,
    });
    const alb = this.elb.addIngressAlb({
      cluster: CLUSTER,
      namespace: 'shop',
      ingress: name,
      stableService: name,
      canaryService: `${name}-canary`,
      servicePort: 80,
      listeners: ['HTTP:80', 'HTTPS:443'],
      canaryWeight,
      targets: { stable: REPLICAS, canary: Math.ceil((REPLICAS * canaryWeight) / 100) },
      ...(group ? { group, host: `${name}.example.com` } : {}),
    });
    return { name, argo, alb };
  }

  /** The canary pods for `weight` registered and healthy (the canary ReplicaSet scales before traffic moves). */
  scaleCanary(rollout: BenchRollout, weight: number): void {
    const registered =
      this.elb.account.targetGroups.get(rollout.alb.canaryTargetGroupArn)?.targets.length ?? 0;
    const wanted = Math.ceil((REPLICAS * weight) / 100);
    if (wanted > registered)
      this.elb.registerHealthyTargets(rollout.alb.canaryTargetGroupArn, wanted - registered);
  }

  /** The load balancer controller's part: ModifyRule on every listener rule (visible after the propagation delay). */
  applyWeights(rollout: BenchRollout, canaryWeight: number): void {
    for (const ruleArn of rollout.alb.ruleArns) {
      this.elb.setRuleWeights(ruleArn, {
        [rollout.alb.canaryTargetGroupArn]: canaryWeight,
        [rollout.alb.stableTargetGroupArn]: 100 - canaryWeight,
      });
    }
  }

  /** Argo's notifications controller posts to the ingest Function URL; returns the published event id. */
  async notify(
    body: NotificationBody,
    via: (request: WebhookCall) => Promise<InvokeAnswer> = (request) => this.ingest.invoke(request.event),
  ): Promise<{ statusCode: number; eventId?: string }> {
    const request = {
      sourceIp: ARGO_SOURCE_IP,
      event: functionUrlEvent({
        body: JSON.stringify(body),
        token: WEBHOOK_TOKEN,
        query: { cluster: CLUSTER },
        sourceIp: ARGO_SOURCE_IP,
      }),
    };
    const answer = await via(request);
    if (answer.throttled) return { statusCode: 429 };
    const response = answer.result as { statusCode: number; body?: string };
    const parsed = JSON.parse(response.body ?? '{}') as { eventId?: string };
    return { statusCode: response.statusCode, eventId: parsed.eventId };
  }

  /**
   * The account's Describe budget as the functions' environment states it (verify reads it per
   * invocation). `undefined`: none, for warm-ups outside the measurement.
   */
  setDescribeBudget(budget: { refillPerSecond: number; burst: number } | undefined): void {
    Object.assign(
      process.env,
      budget
        ? {
            ELB_DESCRIBE_RATE_PER_SECOND: String(budget.refillPerSecond),
            ELB_DESCRIBE_BURST: String(budget.burst),
          }
        : UNLIMITED_DESCRIBE_BUDGET,
    );
  }

  /** A rollout event as the looks queue's event source delivers it to verify, for calling a handler directly. */
  looksDelivery(event: DeliveredEvent): SQSEvent {
    return {
      Records: [
        {
          messageId: event.id,
          receiptHandle: `direct-${event.id}`,
          body: eventBridgeMessageBody(event),
          attributes: {
            ApproximateReceiveCount: '1',
            SentTimestamp: String(Date.now()),
            SenderId: 'AIDAEVENTBRIDGE',
            ApproximateFirstReceiveTimestamp: String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: this.sqs.queueArn(this.looksQueueUrl),
          awsRegion: 'eu-west-1',
        },
      ],
    };
  }

  /**
   * What verify spends from now on (invocations, billed time, looks-queue deliveries and SQS
   * requests): call the answer, with the number of verifications, once the scenario is done.
   */
  verifyUsageFromNow(): (verifications: number) => VerifyUsage {
    const stats = { ...this.verify.stats };
    const deliveries = this.looksDeliveries();
    const sqsRequests = this.sqs.billableRequests();
    return (verifications) => ({
      verifications,
      invocations: this.verify.stats.invocations - stats.invocations,
      billedMs: this.verify.stats.billedMs - stats.billedMs,
      memoryMb: this.verify.memoryMb,
      deliveries: this.looksDeliveries() - deliveries,
      sqsRequests: this.sqs.billableRequests() - sqsRequests,
    });
  }

  /** Looks-queue records delivered to verify so far. */
  private looksDeliveries(): number {
    return this.looks?.stats.records ?? 0;
  }

  private noteQueueWaits(event: SQSEvent): void {
    for (const record of event.Records) {
      if (record.body.startsWith('{"continuation"')) continue;
      this.maxLooksQueueWaitMs = Math.max(
        this.maxLooksQueueWaitMs,
        Date.now() - Number(record.attributes.SentTimestamp),
      );
    }
  }

  /** The EventBridge event ingest published with this id (what the verify rule delivers). */
  publishedEvent(eventId: string): DeliveredEvent | undefined {
    return this.bus
      .events()
      .map((record) => record.event)
      .find((event) => (event.detail as { eventId?: string }).eventId === eventId);
  }

  /** Rollout events ingest put on the bus. */
  publishedRolloutEvents(): DeliveredEvent[] {
    return this.bus
      .events()
      .map((record) => record.event)
      .filter((event) => event.source === 'rollout-verifier.ingest');
  }

  waitForVerdict(eventId: string): Promise<ReceivedVerdict> {
    const received = this.verdicts.get(eventId)?.[0];
    if (received) return Promise.resolve(received);
    return new Promise((resolve) => {
      const waiters = this.verdictWaiters.get(eventId) ?? [];
      waiters.push(resolve);
      this.verdictWaiters.set(eventId, waiters);
    });
  }

  /** Until every accepted verify invocation has finished and the bus has delivered everything. */
  async settle(): Promise<void> {
    do {
      await this.bus.drain();
      await this.looks?.idle();
      await this.verify.idle();
      await this.bus.drain();
    } while (this.verify.busy || this.sqs.messages(this.looksQueueUrl).length > 0);
  }

  async close(): Promise<void> {
    await this.looks?.stop();
    for (const close of this.closers.splice(0)) await close();
    for (const [key, value] of Object.entries(this.previousEnvironment)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }

  private receive(event: DeliveredEvent): void {
    const verdict = event.detail as VerdictEventDetail;
    const received = { verdict, at: Date.now() };
    const list = this.verdicts.get(verdict.eventId) ?? [];
    list.push(received);
    this.verdicts.set(verdict.eventId, list);
    for (const resolve of this.verdictWaiters.get(verdict.eventId)?.splice(0) ?? []) resolve(received);
  }
}
