import type { Context } from 'aws-lambda';
import { ROLLOUT_EVENT_PATTERN, VERDICT_EVENT_PATTERN } from '../contract/event-catalog.js';
import type { RolloutEventDetail } from '../lambdas/core/contracts/rollout-event.js';
import { VerdictEventDetail } from '../lambdas/core/contracts/verdict-event.js';
import type { NotificationBody } from '../test/support/argo-driver.js';
import { type Elbv2Sim, startElbv2Sim } from '../test/support/elbv2-sim/index.js';
import { type EventBridgeSim, startEventBridgeSim } from '../test/support/eventbridge-sim/index.js';
import { functionUrlEvent } from '../test/support/function-url-event.js';
import { startSecretsManagerSim } from '../test/support/secrets-manager-sim.js';

export const DEMO_CLUSTER = 'demo';
/** The bearer token the cluster's notification Secret carries. */
const WEBHOOK_TOKEN = 'demo-webhook-token-0123456789abcdef';
const BUS = 'rollout-verifier';

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

/**
 * Everything the pipeline talks to, on loopback: the ELBv2 simulator, Secrets Manager holding the
 * webhook token, an EventBridge bus whose rules use the stack's own patterns, and the ingest and
 * verify Lambda handler modules, unmodified, configured through the environment variables the stack sets.
 */
export interface World {
  elb: Elbv2Sim;
  bus: EventBridgeSim;
  timeline: TimelineEntry[];
  /** Argo posts a notification to the ingest function, which validates, normalizes and publishes it. */
  notify(body: NotificationBody, options?: { token?: string }): Promise<IngestAnswer>;
  /** Waits until every delivery on the bus has been handled. */
  settle(): Promise<void>;
  verdictsFor(rollout: string): VerdictEventDetail[];
  note(rollout: string, what: string): void;
  close(): Promise<void>;
}

export async function startWorld(settings: { deadlineSeconds: number }): Promise<World> {
  const startedAt = Date.now();
  const elb = await startElbv2Sim({ region: 'eu-west-1' });
  const bus = await startEventBridgeSim({ region: 'eu-west-1' });
  const secrets = await startSecretsManagerSim(WEBHOOK_TOKEN);
  const environment: Record<string, string> = {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'demo',
    AWS_SECRET_ACCESS_KEY: 'demo',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: elb.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    WEBHOOK_TOKEN_SECRET_ARN: secrets.secretArn,
    EVENT_BUS_NAME: BUS,
    VERIFY_DEADLINE_SECONDS: String(settings.deadlineSeconds),
    VERIFY_INITIAL_DELAY_MS: '250',
    VERIFY_MAX_DELAY_MS: '1000',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const previousEnvironment = Object.fromEntries(
    Object.keys(environment).map((key) => [key, process.env[key]]),
  );
  Object.assign(process.env, environment);
  // Imported only now: like a Lambda cold start, each module reads its configuration on load.
  const { handler } = await import('../lambdas/verify/handler.js');
  const { handler: ingest } = await import('../lambdas/ingest/handler.js');
  const timeline: TimelineEntry[] = [];
  const verdicts: VerdictEventDetail[] = [];
  const note = (rollout: string, what: string) =>
    timeline.push({ atMs: Date.now() - startedAt, rollout, what });

  bus.addRule({
    name: 'verify-rollout-events',
    pattern: ROLLOUT_EVENT_PATTERN,
    target: async (event) => {
      const result = await handler(event as never, lambdaContext(settings.deadlineSeconds + 30));
      if (result.outcome === 'skipped') {
        note(describe(event.detail), `verify skipped: ${result.reason}`);
      }
    },
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

  return {
    elb,
    bus,
    timeline,
    note,
    async notify(body, { token = WEBHOOK_TOKEN } = {}) {
      const rollout = `${(body.rollout.metadata as { namespace: string }).namespace}/${(body.rollout.metadata as { name: string }).name}`;
      const request = functionUrlEvent({
        body: JSON.stringify(body),
        token,
        query: { cluster: DEMO_CLUSTER },
      });
      const response = await ingest(request as never, lambdaContext(10));
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
    },
    settle: () => bus.drain(),
    verdictsFor: (rollout) =>
      verdicts.filter((verdict) => `${verdict.rollout.namespace}/${verdict.rollout.name}` === rollout),
    async close() {
      await Promise.all([elb.close(), bus.close(), secrets.close()]);
      for (const [key, value] of Object.entries(previousEnvironment)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    },
  };
}

function describe(detail: unknown): string {
  const rollout = (detail as { rollout?: { namespace?: string; name?: string } }).rollout;
  return `${rollout?.namespace ?? '?'}/${rollout?.name ?? '?'}`;
}

function lambdaContext(timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    functionName: 'rollout-verifier-verify',
    awsRequestId: crypto.randomUUID(),
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as Context;
}
