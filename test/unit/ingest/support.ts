import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { RolloutEventDetail } from '../../../lambdas/core/contracts/rollout-event.js';
import { ClusterTokens } from '../../../lambdas/ingest/cluster-tokens.js';
import { buildIngestHandler, type IngestDependencies } from '../../../lambdas/ingest/ingest.js';
import type { IngestResponse } from '../../../lambdas/ingest/responses.js';
import { SourceAllowList } from '../../../lambdas/ingest/source-allow-list.js';
import { TokenStore } from '../../../lambdas/ingest/token-store.js';
import {
  functionUrlEvent as anyFunctionUrlEvent,
  type RequestOptions,
} from '../../../sim/function-url-event.js';

export type { RequestOptions };

export const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhook-token-AbCdEf';
export const BUS = 'rollout-verifier';
export const CURRENT_TOKEN = 'current-token-0123456789abcdefghijklmnopqrstuv';
export const PREVIOUS_TOKEN = 'previous-token-0123456789abcdefghijklmnopqrstu';
/** AWSCURRENT's CreatedDate in these tests. */
export const ROTATED_AT = new Date('2025-11-03T10:00:00Z');

const FIXTURES = join(import.meta.dirname, '../../fixtures/notifications');

export function fixtureText(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(fixtureText(name)) as Record<string, unknown>;
}

/** Every fixture the normalizer accepts, by file name. */
export const VALID_FIXTURES = readdirSync(FIXTURES).filter(
  (name) => name.endsWith('.json') && !name.startsWith('invalid-'),
);
export const INVALID_FIXTURES = readdirSync(FIXTURES).filter((name) => name.startsWith('invalid-'));

/** A Function URL request carrying the current token unless the options say otherwise. */
export function functionUrlEvent(options: RequestOptions = {}) {
  return anyFunctionUrlEvent({
    ...options,
    token: options.token === undefined ? CURRENT_TOKEN : options.token,
  });
}

export const context = {
  functionName: 'ingest',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

/**
 * The tokens in Secrets Manager: AWSCURRENT (created at ROTATED_AT) and AWSPREVIOUS (null: none),
 * of the secret `secretId` (default: of any secret).
 */
export function mockTokens(
  stub: AwsClientStub<SecretsManagerClient>,
  {
    previous = PREVIOUS_TOKEN as string | null,
    current = CURRENT_TOKEN,
    secretId = undefined as string | undefined,
  } = {},
): void {
  const secret = secretId === undefined ? {} : { SecretId: secretId };
  stub.on(GetSecretValueCommand, { ...secret, VersionStage: 'AWSCURRENT' }).resolves({
    ARN: secretId ?? SECRET_ARN,
    SecretString: current,
    VersionStages: ['AWSCURRENT'],
    CreatedDate: ROTATED_AT,
  });
  if (previous === null) {
    stub.on(GetSecretValueCommand, { ...secret, VersionStage: 'AWSPREVIOUS' }).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
        $metadata: {},
      }),
    );
  } else {
    stub.on(GetSecretValueCommand, { ...secret, VersionStage: 'AWSPREVIOUS' }).resolves({
      ARN: secretId ?? SECRET_ARN,
      SecretString: previous,
      VersionStages: ['AWSPREVIOUS'],
      CreatedDate: new Date(ROTATED_AT.getTime() - 86_400_000),
    });
  }
}

export interface TestHandlerOptions {
  clock?: { now: number };
  /** The cluster SECRET_ARN's token speaks for (default: none, the unbound token). */
  cluster?: string;
  /** Several clusters instead, each with its own secret: cluster → secret ARN. */
  clusters?: Record<string, string>;
  cacheTtlMs?: number;
  rotationWindowMs?: number;
  /** ALLOWED_SOURCE_CIDRS (default: any source). */
  allowedSourceCidrs?: string[];
}

/** A fresh handler (fresh token caches) over the mocked clients, with an injectable clock. */
export function testHandler(options: TestHandlerOptions = {}) {
  const clock = options.clock ?? { now: ROTATED_AT.getTime() + 60_000 };
  const client = new SecretsManagerClient({});
  const bindings = Object.entries(options.clusters ?? { '': SECRET_ARN }).map(([cluster, secretId]) => ({
    cluster: options.clusters ? cluster : options.cluster,
    tokens: new TokenStore({
      client,
      secretId,
      cacheTtlMs: options.cacheTtlMs ?? 300_000,
      rotationWindowMs: options.rotationWindowMs ?? 3_600_000,
      now: () => clock.now,
    }),
  }));
  const deps: IngestDependencies = {
    settings: { EVENT_BUS_NAME: BUS },
    eventBridge: new EventBridgeClient({}),
    tokens: new ClusterTokens(bindings),
    ...(options.allowedSourceCidrs
      ? { allowedSources: new SourceAllowList(options.allowedSourceCidrs) }
      : {}),
    now: () => new Date(clock.now),
    publish: { maxRounds: 3, baseDelayMs: 1 },
  };
  const handler = buildIngestHandler(deps);
  return {
    clock,
    invoke: (event: unknown) => handler(event, context) as Promise<IngestResponse>,
  };
}

export function responseBody(response: IngestResponse): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}

/** Every entry sent with PutEvents, its Detail parsed with the contract. */
export function publishedEntries(events: AwsClientStub<EventBridgeClient>) {
  return events.commandCalls(PutEventsCommand).flatMap((call) =>
    (call.args[0].input.Entries ?? []).map((entry) => ({
      ...entry,
      detail: RolloutEventDetail.parse(JSON.parse(entry.Detail ?? 'null')),
    })),
  );
}

/** Fresh mocks for a test: the tokens in Secrets Manager (as mockTokens) and PutEvents succeeding. */
export function resetClients(
  events: AwsClientStub<EventBridgeClient>,
  secrets: AwsClientStub<SecretsManagerClient>,
  tokens: Parameters<typeof mockTokens>[1] = {},
): void {
  events.reset();
  secrets.reset();
  mockTokens(secrets, tokens);
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-1' }] });
}

/**
 * lambdas/ingest/handler.ts as deployed: imported once (a cold start) with `environment` added to
 * the process environment, which `restore` puts back.
 */
export async function deployedIngestHandler(environment: Record<string, string>) {
  const saved = { ...process.env };
  Object.assign(process.env, environment);
  const { handler } = await import('../../../lambdas/ingest/handler.js');
  return {
    invoke: (event: unknown) => handler(event, context) as Promise<IngestResponse>,
    restore: () => {
      process.env = saved;
    },
  };
}
