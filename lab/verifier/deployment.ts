import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { buildBundles } from '../../bench/bundles.js';
import {
  CLUSTER_NAMES,
  CLUSTER_SECRET_ARNS,
  EVENT_BUS_NAME,
  ON_FAILURE,
  ON_INCONCLUSIVE,
  ON_SUCCESS,
  STATE_TABLE_NAME,
  VERIFY_DEADLINE_SECONDS,
  VERIFY_LOOK_CONCURRENCY,
  VERIFY_PUBLISH_RESERVE_MS,
  VERIFY_QUEUE_URL,
  WEBHOOK_TOKEN_SECRET_ARNS,
} from '../../contract/environment.js';
import { ROLLOUT_EVENT_PATTERN, VERDICT_EVENT_PATTERN } from '../../contract/event-catalog.js';
import { functionUrlEventOf } from '../../sim/function-url-server.js';
import { LAB_ACCOUNT, LAB_REGION, type Moto } from '../aws/moto.js';
import { type SqsMessage, sqs } from '../aws/wire.js';
import type { ControlPlane } from '../cluster/control-plane.js';
import { cachePaths } from '../paths.js';
import { type ManagedProcess, sleep, startProcess, waitFor } from '../runtime/processes.js';

export const LAB_CLUSTER = 'lab';
const BUS = 'rollout-verifier';
const STATE_TABLE = 'rollout-verifier-state';
type FunctionName = 'ingest' | 'verify' | 'callback';

export interface NotificationRecord {
  atMs: number;
  /** `namespace/name` of the Rollout in the body, when there is one. */
  rollout: string | null;
  trigger: string | null;
  body: string;
  status: number;
  answer: string;
}

export interface InvocationRecord {
  atMs: number;
  fn: FunctionName;
  event: Record<string, unknown>;
  ok: boolean;
  result: unknown;
  error?: { name: string; message: string };
  attempt: number;
}

export interface VerifierDeployment {
  /** Date.now() when the deployment started: every record's atMs counts from here. */
  startedAt: number;
  /** The webhook URL Argo's notification Secret carries (the Function URL, ?cluster=lab). */
  webhookUrl: string;
  webhookToken: string;
  notifications: NotificationRecord[];
  invocations: InvocationRecord[];
  /** Verdict events seen on the bus (an observer rule of the lab's own, like the demo's). */
  verdicts: Array<{ atMs: number; event: Record<string, unknown> }>;
  /** Resolves once no delivery is queued or running (checked twice, a poll apart). */
  quiet(): Promise<void>;
  stop(): Promise<void>;
}

interface Invoker {
  invoke(
    event: unknown,
    timeoutMs: number,
  ): Promise<{ ok: boolean; result?: unknown; error?: { name: string; message: string } }>;
  process: ManagedProcess;
}

/**
 * The verifier as the stack deploys it, on loopback: the three bundles CDK builds (same esbuild
 * definition), each in its own Node process with the environment the stack sets; ingest behind a
 * Function URL host; the stack's two EventBridge rules (the contract's patterns) on moto's bus.
 *
 * Stand-in, named: moto cannot invoke a Lambda function (its Lambda needs Docker), so each rule
 * targets an SQS queue on moto and the lab's dispatcher plays Lambda's asynchronous invocation:
 * it polls the queue, invokes the function with the EventBridge event as delivered, and retries a
 * failed invocation as the stack configures (verify once, callback twice).
 */
export async function deployVerifier(options: {
  runDir: string;
  moto: Moto;
  cluster: ControlPlane;
  deadlineSeconds: number;
  log: (line: string) => void;
}): Promise<VerifierDeployment> {
  const { moto, cluster, runDir } = options;
  const startedAt = Date.now();
  const awsConfig = {
    region: LAB_REGION,
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
  };
  const secrets = new SecretsManagerClient(awsConfig);
  const events = new EventBridgeClient(awsConfig);
  const dynamodb = new DynamoDBClient(awsConfig);

  const webhookToken = randomBytes(24).toString('hex');
  const tokenSecret = await secrets.send(
    new CreateSecretCommand({ Name: 'rollout-verifier-webhook-token', SecretString: webhookToken }),
  );
  const clusterSecret = async (fn: 'verify' | 'callback') =>
    (
      await secrets.send(
        new CreateSecretCommand({
          Name: `rollout-verifier-${fn}-cluster-${LAB_CLUSTER}`,
          SecretString: JSON.stringify({
            server: cluster.server,
            certificateAuthorityData: Buffer.from(cluster.caPem).toString('base64'),
            token: cluster.identities[fn].token,
          }),
        }),
      )
    ).ARN!;
  const [verifyClusterSecret, callbackClusterSecret] = [
    await clusterSecret('verify'),
    await clusterSecret('callback'),
  ];
  await dynamodb.send(
    new CreateTableCommand({
      TableName: STATE_TABLE,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await events.send(new CreateEventBusCommand({ Name: BUS }));
  const queues = {
    verify: await sqs.createQueue(moto.endpoint, 'lab-rule-rollout-events-to-verify'),
    callback: await sqs.createQueue(moto.endpoint, 'lab-rule-verdicts-to-callback'),
    observer: await sqs.createQueue(moto.endpoint, 'lab-observer-verdicts'),
  };
  const rule = async (name: string, pattern: object, queueArn: string) => {
    await events.send(
      new PutRuleCommand({ Name: name, EventBusName: BUS, EventPattern: JSON.stringify(pattern) }),
    );
    await events.send(
      new PutTargetsCommand({ Rule: name, EventBusName: BUS, Targets: [{ Id: 'target', Arn: queueArn }] }),
    );
  };
  // The stack's rules (lib/verify.ts, lib/callback.ts) with the contract's patterns, and the lab's observer.
  await rule('RolloutEvents', ROLLOUT_EVENT_PATTERN, queues.verify.arn);
  await rule('Verdicts', VERDICT_EVENT_PATTERN, queues.callback.arn);
  await rule('LabVerdictObserver', VERDICT_EVENT_PATTERN, queues.observer.arn);

  const bundles = await buildBundles(cachePaths.bundles);
  const bundleOf = (fn: FunctionName) => bundles.find((bundle) => bundle.name === fn)!.file;
  const common = {
    AWS_REGION: LAB_REGION,
    AWS_DEFAULT_REGION: LAB_REGION,
    AWS_ACCESS_KEY_ID: 'lab',
    AWS_SECRET_ACCESS_KEY: 'lab',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_EVENTBRIDGE: moto.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: moto.endpoint,
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: moto.endpoint,
    AWS_ENDPOINT_URL_EKS: moto.endpoint,
    AWS_ENDPOINT_URL_STS: moto.endpoint,
    AWS_ENDPOINT_URL_SQS: moto.endpoint,
    // lib/verifier-function.ts
    POWERTOOLS_SERVICE_NAME: 'rollout-verifier',
    POWERTOOLS_METRICS_NAMESPACE: 'RolloutVerifier',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    PATH: process.env.PATH ?? '',
  };
  const environments: Record<FunctionName, Record<string, string>> = {
    // lib/ingest.ts
    ingest: {
      ...common,
      AWS_LAMBDA_FUNCTION_NAME: 'rollout-verifier-ingest',
      [EVENT_BUS_NAME]: BUS,
      // One token secret per cluster, as the stack deploys it (docs/security.md).
      [WEBHOOK_TOKEN_SECRET_ARNS]: JSON.stringify({ [LAB_CLUSTER]: tokenSecret.ARN! }),
    },
    // lib/verify.ts + lib/cluster-access.ts (a connection secret instead of EKS)
    verify: {
      ...common,
      AWS_LAMBDA_FUNCTION_NAME: 'rollout-verifier-verify',
      [EVENT_BUS_NAME]: BUS,
      [VERIFY_DEADLINE_SECONDS]: String(options.deadlineSeconds),
      [VERIFY_PUBLISH_RESERVE_MS]: '5000',
      // The looks queue: the rule's target, and where verify sends the verifications that wait.
      [VERIFY_QUEUE_URL]: queues.verify.url,
      // One host process serves every batch (Lambda would run one container per batch): its one
      // Describe budget bucket gets verify's whole share, not a fifth of it.
      [VERIFY_LOOK_CONCURRENCY]: '1',
      [STATE_TABLE_NAME]: STATE_TABLE,
      [CLUSTER_NAMES]: '',
      [CLUSTER_SECRET_ARNS]: JSON.stringify({ [LAB_CLUSTER]: verifyClusterSecret }),
    },
    // lib/callback.ts
    callback: {
      ...common,
      AWS_LAMBDA_FUNCTION_NAME: 'rollout-verifier-callback',
      [ON_FAILURE]: 'abort',
      [ON_SUCCESS]: 'none',
      [ON_INCONCLUSIVE]: 'none',
      [CLUSTER_NAMES]: '',
      [CLUSTER_SECRET_ARNS]: JSON.stringify({ [LAB_CLUSTER]: callbackClusterSecret }),
      [STATE_TABLE_NAME]: STATE_TABLE,
    },
  };
  const hostDir = join(runDir, 'functions');
  await mkdir(hostDir, { recursive: true });
  const invokers = {} as Record<FunctionName, Invoker>;
  for (const fn of ['ingest', 'verify', 'callback'] as const) {
    invokers[fn] = await startLambdaHost(fn, bundleOf(fn), environments[fn], hostDir, runDir);
  }

  const notifications: NotificationRecord[] = [];
  const invocations: InvocationRecord[] = [];
  const verdicts: VerifierDeployment['verdicts'] = [];
  const captureFile = join(runDir, 'notifications.jsonl');

  const functionUrl: Server = createServer(async (request, response) => {
    const raw = await readBody(request);
    const body = raw.toString('utf8');
    const event = functionUrlEventOf(request, raw);
    const answer = await invokers.ingest.invoke(event, 10_000);
    const result = (answer.result ?? {}) as {
      statusCode?: number;
      headers?: Record<string, string>;
      body?: string;
    };
    const status = answer.ok ? (result.statusCode ?? 200) : 502;
    let parsed: { trigger?: string; rollout?: { metadata?: { namespace?: string; name?: string } } } = {};
    try {
      parsed = JSON.parse(body);
    } catch {}
    const metadata = parsed.rollout?.metadata;
    const record: NotificationRecord = {
      atMs: Date.now() - startedAt,
      rollout: metadata ? `${metadata.namespace}/${metadata.name}` : null,
      trigger: parsed.trigger ?? null,
      body,
      status,
      answer: answer.ok ? (result.body ?? '') : JSON.stringify(answer.error),
    };
    notifications.push(record);
    await appendFile(captureFile, `${JSON.stringify(record)}\n`);
    response.writeHead(status, result.headers ?? { 'content-type': 'application/json' });
    response.end(answer.ok ? (result.body ?? '') : JSON.stringify({ error: 'function error' }));
  });
  await new Promise<void>((resolve) => functionUrl.listen(0, '127.0.0.1', resolve));
  const address = functionUrl.address();
  const webhookUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/?cluster=${LAB_CLUSTER}`;

  // The dispatcher (stand-in for Lambda's asynchronous invocation by EventBridge).
  let stopping = false;
  let inFlight = 0;
  const retriesOf: Record<'verify' | 'callback', number> = { verify: 1, callback: 2 };
  const timeoutOf: Record<'verify' | 'callback', number> = {
    verify: (options.deadlineSeconds + 5 + 20) * 1000,
    callback: 30_000,
  };
  /** Invocations running now, per function and idempotency key (eventId / verdictId). */
  const running = new Map<string, Set<Promise<unknown>>>();
  const invocationLog = join(runDir, 'invocations.jsonl');
  const deliver = async (fn: 'verify' | 'callback', message: SqsMessage) => {
    const event = JSON.parse(message.Body) as Record<string, unknown>;
    // moto gap (lab/aws/moto-gaps.ts): the event a rule delivers to its target lacks `account`.
    if (event.account === undefined) event.account = LAB_ACCOUNT;
    const detail = (event.detail ?? {}) as { eventId?: string; verdictId?: string };
    const slot = `${fn}/${detail.verdictId ?? detail.eventId ?? message.MessageId}`;
    const others = running.get(slot) ?? new Set<Promise<unknown>>();
    running.set(slot, others);
    for (let attempt = 1; attempt <= 1 + retriesOf[fn]; attempt++) {
      const pending = invokers[fn].invoke(event, timeoutOf[fn]);
      others.add(pending);
      const answer = await pending.finally(() => others.delete(pending));
      const record: InvocationRecord = {
        atMs: Date.now() - startedAt,
        fn,
        event,
        ok: answer.ok,
        result: answer.result ?? null,
        ...(answer.error ? { error: answer.error } : {}),
        attempt,
      };
      invocations.push(record);
      await appendFile(invocationLog, `${JSON.stringify({ ...record, messageId: message.MessageId })}\n`);
      if (answer.ok) break;
      options.log(`${fn}: attempt ${attempt} failed (${answer.error?.name}: ${answer.error?.message})`);
      // Lambda retries a failed asynchronous invocation a minute or more later, when any other
      // invocation for the same event has long finished: the same order, without the wait.
      await Promise.allSettled([...others]);
      await sleep(1_000);
    }
    if (others.size === 0) running.delete(slot);
  };
  const poll = async (queue: { url: string }, handle: (message: SqsMessage) => Promise<void>) => {
    while (!stopping) {
      let messages: SqsMessage[] = [];
      try {
        messages = await sqs.receive(moto.endpoint, queue.url, 1);
      } catch (error) {
        if (stopping) return;
        options.log(`dispatcher: ReceiveMessage failed: ${(error as Error).message}`);
        await sleep(500);
        continue;
      }
      for (const message of messages) {
        inFlight++;
        void handle(message)
          .catch((error: unknown) => options.log(`dispatcher: ${(error as Error).message}`))
          .finally(async () => {
            await sqs.delete(moto.endpoint, queue.url, message.ReceiptHandle).catch(() => {});
            inFlight--;
          });
      }
      if (messages.length === 0) await sleep(100);
    }
  };
  /**
   * The stand-in for verify's SQS event source mapping: batches of up to 10 looks-queue messages,
   * at most LOOK_CONCURRENCY invocations at once; the batch response's failed items come back
   * (after a short visibility timeout here), the rest are deleted.
   */
  let looksRunning = 0;
  const lookBatch = async (messages: SqsMessage[]) => {
    const records = messages.map((message) => looksRecord(message, queues.verify.arn));
    const answer = await invokers.verify.invoke({ Records: records }, timeoutOf.verify);
    const failed = new Set(
      answer.ok
        ? (
            (answer.result as { batchItemFailures?: Array<{ itemIdentifier: string }> } | null)
              ?.batchItemFailures ?? []
          ).map((failure) => failure.itemIdentifier)
        : messages.map((message) => message.MessageId),
    );
    for (const message of messages) {
      const record: InvocationRecord = {
        atMs: Date.now() - startedAt,
        fn: 'verify',
        event: eventOfLooksMessage(message.Body),
        ok: answer.ok && !failed.has(message.MessageId),
        result: answer.result ?? null,
        ...(answer.error ? { error: answer.error } : {}),
        attempt: 1,
      };
      invocations.push(record);
      await appendFile(invocationLog, `${JSON.stringify({ ...record, messageId: message.MessageId })}\n`);
      if (failed.has(message.MessageId)) {
        options.log(
          `verify: message ${message.MessageId} failed (${answer.error?.name ?? 'batch item failure'}); it comes back`,
        );
        await sqs
          .changeVisibility(moto.endpoint, queues.verify.url, message.ReceiptHandle, 2)
          .catch(() => {});
      } else {
        await sqs.delete(moto.endpoint, queues.verify.url, message.ReceiptHandle).catch(() => {});
      }
    }
  };
  const pollLooks = async () => {
    while (!stopping) {
      if (looksRunning >= LOOK_CONCURRENCY) {
        await sleep(50);
        continue;
      }
      let messages: SqsMessage[] = [];
      try {
        messages = await sqs.receive(moto.endpoint, queues.verify.url, 1);
      } catch (error) {
        if (stopping) return;
        options.log(`looks: ReceiveMessage failed: ${(error as Error).message}`);
        await sleep(500);
        continue;
      }
      if (messages.length === 0) continue;
      looksRunning++;
      inFlight++;
      void lookBatch(messages)
        .catch((error: unknown) => options.log(`looks: ${(error as Error).message}`))
        .finally(() => {
          looksRunning--;
          inFlight--;
        });
    }
  };
  const pollers = [
    pollLooks(),
    poll(queues.callback, (message) => deliver('callback', message)),
    poll(queues.observer, async (message) => {
      verdicts.push({ atMs: Date.now() - startedAt, event: JSON.parse(message.Body) });
    }),
  ];

  return {
    startedAt,
    webhookUrl,
    webhookToken,
    notifications,
    invocations,
    verdicts,
    async quiet() {
      for (let calm = 0; calm < 2; ) {
        await sleep(1_200);
        calm = inFlight === 0 ? calm + 1 : 0;
      }
    },
    async stop() {
      stopping = true;
      await Promise.allSettled(pollers);
      await new Promise<void>((resolve) => functionUrl.close(() => resolve()));
      for (const invoker of Object.values(invokers)) await invoker.process.stop();
    },
  };
}

async function startLambdaHost(
  fn: FunctionName,
  bundle: string,
  environment: Record<string, string>,
  hostDir: string,
  runDir: string,
): Promise<Invoker> {
  const portFile = join(hostDir, `${fn}.port`);
  const hostScript = new URL('./lambda-host.ts', import.meta.url).pathname;
  const process = startProcess({
    name: `lambda-${fn}`,
    command: globalThis.process.execPath,
    args: ['--import', 'tsx', hostScript, bundle, portFile],
    env: environment,
    logDir: runDir,
  });
  const port = await waitFor(
    `${fn} function host`,
    async () => Number(await readFile(portFile, 'utf8')) || undefined,
    {
      process,
      timeoutMs: 30_000,
    },
  );
  return {
    process,
    async invoke(event, timeoutMs) {
      const response = await fetch(`http://127.0.0.1:${port}/invoke`, {
        method: 'POST',
        body: JSON.stringify({ event, timeoutMs }),
        signal: AbortSignal.timeout(timeoutMs + 5_000),
      });
      return (await response.json()) as Awaited<ReturnType<Invoker['invoke']>>;
    },
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Verify's event source mapping's maximum concurrency, as the stack sets it. */
const LOOK_CONCURRENCY = 5;

/** A looks-queue message as Lambda's SQS event source hands it to verify. */
function looksRecord(message: SqsMessage, queueArn: string) {
  const now = String(Date.now());
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: withMotoGapFilled(message.Body),
    attributes: {
      ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: message.Attributes?.SentTimestamp ?? now,
      SenderId: message.Attributes?.SenderId ?? LAB_ACCOUNT,
      ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? now,
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: LAB_REGION,
  };
}

/** The rollout event a looks-queue message is about (a continuation carries it inside). */
function eventOfLooksMessage(body: string): Record<string, unknown> {
  const parsed = JSON.parse(body) as Record<string, unknown> & { continuation?: { event?: unknown } };
  if (parsed.continuation) return { 'detail-type': 'continuation', detail: parsed.continuation.event };
  return parsed;
}

/** moto gap (lab/aws/moto-gaps.ts): the event a rule delivers to its target lacks `account`. */
function withMotoGapFilled(body: string): string {
  const parsed = JSON.parse(body) as Record<string, unknown>;
  if (parsed.continuation !== undefined || parsed.account !== undefined) return body;
  return JSON.stringify({ ...parsed, account: LAB_ACCOUNT });
}
