import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import {
  type IngestFront,
  type IngestOptions,
  type LogLevel,
  type OnFailurePolicy,
  type OnInconclusivePolicy,
  type OnSuccessPolicy,
  RolloutVerifierConfigError,
  type RolloutVerifierProps,
} from './settings.js';

/** Context keys `bin/app.ts` reads (`-c key=value` or cdk.json "context"). */
export const CONTEXT_KEYS = [
  'stackName',
  'clusterName',
  'clusterNames',
  'busName',
  'createBus',
  'alarmEmail',
  'deadlineSeconds',
  'onFailure',
  'onSuccess',
  'onInconclusive',
  'clusterSecrets',
  'verifyReservedConcurrency',
  'verifyLookConcurrency',
  'verifyMaxBatchingWindowSeconds',
  'logRetention',
  'logLevel',
  'serviceName',
  'webhookClusters',
  'sharedTokenCluster',
  'allowedSourceCidrs',
  'ingestFront',
  'removalPolicy',
] as const;

export interface AppSettings {
  readonly stackName: string;
  readonly verifier: RolloutVerifierProps;
}

/**
 * Context values arrive as strings from `-c` and as JSON values from cdk.json: both are accepted.
 * Range and enum checks happen once, in resolveSettings; this only converts types.
 */
export function settingsFromContext(node: Node): AppSettings {
  const problems: string[] = [];
  const read = (key: (typeof CONTEXT_KEYS)[number]): unknown => {
    const value: unknown = node.tryGetContext(key);
    return value === '' ? undefined : value;
  };
  const text = (key: (typeof CONTEXT_KEYS)[number]): string | undefined => {
    const value = read(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value.trim();
    problems.push(`context ${key} must be a string, got ${JSON.stringify(value)}`);
    return undefined;
  };
  const integer = (key: (typeof CONTEXT_KEYS)[number]): number | undefined => {
    const value = read(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value.trim());
    problems.push(`context ${key} must be a whole number, got ${JSON.stringify(value)}`);
    return undefined;
  };
  const boolean = (key: (typeof CONTEXT_KEYS)[number]): boolean | undefined => {
    const value = read(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    problems.push(`context ${key} must be true or false, got ${JSON.stringify(value)}`);
    return undefined;
  };

  /** `-c key=a,b` or a JSON list in cdk.json. */
  const names = (key: (typeof CONTEXT_KEYS)[number]): string[] | undefined => {
    const value = read(key);
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value) && value.every((name) => typeof name === 'string')) return value;
    if (typeof value === 'string') {
      return value
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name.length > 0);
    }
    problems.push(`context ${key} must be a comma-separated string or a list of strings`);
    return undefined;
  };
  const clusterNames = names('clusterNames');
  const webhookClusters = names('webhookClusters');
  const sharedTokenCluster = text('sharedTokenCluster');
  const allowedSourceCidrs = names('allowedSourceCidrs');
  const front = text('ingestFront') as IngestFront | undefined;
  const ingest: IngestOptions = {
    ...(webhookClusters === undefined ? {} : { clusters: webhookClusters }),
    ...(sharedTokenCluster === undefined ? {} : { sharedTokenCluster }),
    ...(allowedSourceCidrs === undefined ? {} : { allowedSourceCidrs }),
    ...(front === undefined ? {} : { front }),
  };

  // `-c clusterSecrets='{"onprem":"arn:aws:secretsmanager:…"}'` or an object in cdk.json.
  let clusterSecrets: Record<string, string> | undefined;
  const secretsValue = read('clusterSecrets');
  const secretsObject = typeof secretsValue === 'string' ? parseJsonObject(secretsValue) : secretsValue;
  if (isStringRecord(secretsObject)) clusterSecrets = secretsObject;
  else if (secretsValue !== undefined && secretsValue !== null) {
    problems.push(
      'context clusterSecrets must be a JSON object of cluster name to Secrets Manager secret ARN',
    );
  }

  const reserved = read('verifyReservedConcurrency');
  const verifyReservedConcurrency =
    reserved === false || reserved === 'false' || reserved === 'none'
      ? false
      : integer('verifyReservedConcurrency');

  const batchingWindowSeconds = integer('verifyMaxBatchingWindowSeconds');

  const retentionDays = integer('logRetention');
  const logRetention = retentionDays === undefined ? undefined : (retentionDays as RetentionDays);
  if (logRetention !== undefined && !Object.values(RetentionDays).includes(logRetention)) {
    problems.push(`context logRetention must be a CloudWatch retention period in days, got ${retentionDays}`);
  }

  const removal = text('removalPolicy');
  const removalPolicy = removal === undefined ? undefined : REMOVAL_POLICIES[removal.toLowerCase()];
  if (removal !== undefined && removalPolicy === undefined) {
    problems.push(
      `context removalPolicy must be one of ${Object.keys(REMOVAL_POLICIES).join(', ')}, got "${removal}"`,
    );
  }

  const verifier: RolloutVerifierProps = {
    clusterName: text('clusterName'),
    clusterNames,
    busName: text('busName'),
    createBus: boolean('createBus'),
    alarmEmail: text('alarmEmail'),
    deadlineSeconds: integer('deadlineSeconds'),
    onFailure: text('onFailure') as OnFailurePolicy | undefined,
    onSuccess: text('onSuccess') as OnSuccessPolicy | undefined,
    onInconclusive: text('onInconclusive') as OnInconclusivePolicy | undefined,
    clusterSecrets,
    verifyReservedConcurrency,
    verifyLookConcurrency: integer('verifyLookConcurrency'),
    verifyMaxBatchingWindow:
      batchingWindowSeconds === undefined ? undefined : Duration.seconds(batchingWindowSeconds),
    logRetention,
    logLevel: text('logLevel')?.toUpperCase() as LogLevel | undefined,
    serviceName: text('serviceName'),
    ingest: Object.keys(ingest).length > 0 ? ingest : undefined,
    removalPolicy,
  };
  if (problems.length > 0) {
    throw new RolloutVerifierConfigError(problems, 'cdk context');
  }
  return {
    stackName: text('stackName') ?? 'RolloutVerifier',
    // Absent keys stay absent so the construct's defaults apply.
    verifier: Object.fromEntries(
      Object.entries(verifier).filter(([, value]) => value !== undefined),
    ) as RolloutVerifierProps,
  };
}

/** `-c removalPolicy=destroy`: a stack for tests that leaves nothing behind. */
const REMOVAL_POLICIES: Readonly<Record<string, RemovalPolicy>> = {
  retain: RemovalPolicy.RETAIN,
  destroy: RemovalPolicy.DESTROY,
  snapshot: RemovalPolicy.SNAPSHOT,
};

function parseJsonObject(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((item) => typeof item === 'string')
  );
}
