import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ROLLOUT_DETAIL_TYPES } from '../contract/event-catalog.js';
import { type AlbIngressRef, RolloutEventDetail } from '../lambdas/core/contracts/rollout-event.js';
import {
  NotificationValidationError,
  normalizeLiveRollout,
  normalizeNotification,
} from '../lambdas/core/normalize/index.js';
import { issuesText, UsageError } from './usage-error.js';

/**
 * `--event` accepts what an operator has at hand: the notification body Argo posts
 * (`{"trigger": …, "rollout": …}`), the normalized event detail (as in `docs/events/`), the
 * whole EventBridge event around it, or a Rollout itself (`kubectl get rollout -o json`), which
 * is verified as it is now (its persisted status, not a notification's pre-transition snapshot).
 */
export async function readEventFile(
  path: string,
  stdin: NodeJS.ReadableStream = process.stdin,
  cluster?: string,
): Promise<RolloutEventDetail> {
  const text =
    path === '-'
      ? await readAll(stdin)
      : await readFile(path, 'utf8').catch((error: Error) => {
          throw new UsageError(`--event: cannot read ${path}: ${error.message}`);
        });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `--event: ${path === '-' ? 'standard input' : path} is not JSON: ${(error as Error).message}`,
    );
  }
  if (isRollout(json)) return normalizeWith(normalizeLiveRollout, json, cluster);
  if (isNotificationBody(json)) return normalizeWith(normalizeNotification, json, cluster);
  const detail = isEnvelope(json) ? json.detail : json;
  const parsed = RolloutEventDetail.safeParse(detail);
  if (!parsed.success)
    throw new UsageError(`--event: not a valid rollout event: ${issuesText(parsed.error.issues)}`);
  return parsed.data;
}

function isNotificationBody(json: unknown): boolean {
  return (
    typeof json === 'object' &&
    json !== null &&
    'trigger' in json &&
    'rollout' in json &&
    !('schemaVersion' in json)
  );
}

/** What `kubectl get rollout -o json` prints: the object itself, no trigger around it. */
function isRollout(json: unknown): boolean {
  if (typeof json !== 'object' || json === null || 'trigger' in json || 'schemaVersion' in json) return false;
  const { kind } = json as { kind?: unknown };
  return kind === 'Rollout' || (kind === undefined && 'metadata' in json && 'spec' in json);
}

function normalizeWith(
  normalize: typeof normalizeNotification | typeof normalizeLiveRollout,
  body: unknown,
  cluster?: string,
): RolloutEventDetail {
  try {
    return normalize(body, { receivedAt: new Date(), cluster });
  } catch (error) {
    if (error instanceof NotificationValidationError) throw new UsageError(`--event: ${error.message}`);
    throw error;
  }
}

function isEnvelope(json: unknown): json is { detail: unknown } {
  return typeof json === 'object' && json !== null && 'detail' in json && 'detail-type' in json;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export interface VerifyFlags {
  rollout?: string;
  canaryWeight?: string;
  stableWeight?: string;
  maxWeight?: string;
  step?: string;
  cluster?: string;
  ingress?: string[];
  stableService?: string;
  canaryService?: string;
  servicePort?: string;
  loadBalancerArn?: string;
  canaryTargetGroupArn?: string;
  stableTargetGroupArn?: string;
  minHealthyCanaryTargets?: string;
}

const integer = () =>
  z.string({ error: 'required' }).regex(/^\d+$/, 'must be a whole number').transform(Number);

const Flags = z
  .object({
    rollout: z
      .string({ error: 'required (namespace/name)' })
      .regex(/^[^/]+\/[^/]+$/, 'must be namespace/name'),
    canaryWeight: integer(),
    stableWeight: integer().optional(),
    maxWeight: integer().default(100),
    step: integer().default(0),
    minHealthyCanaryTargets: integer().optional(),
    cluster: z.string().optional(),
    ingress: z.array(z.string()).optional(),
    stableService: z.string().optional(),
    canaryService: z.string().optional(),
    servicePort: integer().default(80),
    loadBalancerArn: z.string().optional(),
    canaryTargetGroupArn: z.string().optional(),
    stableTargetGroupArn: z.string().optional(),
  })
  .refine((flags) => flags.loadBalancerArn || flags.cluster || flags.ingress, {
    message: 'say where to look: --load-balancer-arn with the target group ARNs, or --cluster and --ingress',
  })
  .refine((flags) => !flags.loadBalancerArn || flags.stableTargetGroupArn, {
    message: '--load-balancer-arn needs --stable-target-group-arn (and --canary-target-group-arn)',
    path: ['stableTargetGroupArn'],
  });

/** The flags form: "rollout shop/checkout is at canary weight 20" without an event file. */
export function eventFromFlags(flags: VerifyFlags, now = new Date()): RolloutEventDetail {
  const parsed = Flags.safeParse(flags);
  if (!parsed.success) throw new UsageError(issuesText(parsed.error.issues.map(flagPath)));
  const options = parsed.data;
  const [namespace, name] = options.rollout.split('/') as [string, string];
  const ingresses: AlbIngressRef[] = (options.ingress?.length ? options.ingress : [name]).map((ingress) => ({
    ingress,
    loadBalancerArn: options.loadBalancerArn,
    stableTargetGroupArn: options.stableTargetGroupArn,
    canaryTargetGroupArn: options.canaryTargetGroupArn,
  }));
  const stableWeight = options.stableWeight ?? options.maxWeight - options.canaryWeight;
  const event = RolloutEventDetail.safeParse({
    schemaVersion: 1,
    eventId: `cli-${namespace}-${name}-${now.getTime()}`,
    trigger: 'on-rollout-step-completed',
    receivedAt: now.toISOString(),
    cluster: options.cluster,
    rollout: { namespace, name, uid: 'cli', revision: 0 },
    strategy: 'canary',
    step: { index: options.step, count: options.step },
    expected: {
      canaryWeight: options.canaryWeight,
      stableWeight,
      maxWeight: options.maxWeight,
      derivation: `canary weight ${options.canaryWeight} given on the command line`,
      minHealthyCanaryTargets: options.minHealthyCanaryTargets ?? (options.canaryWeight > 0 ? 1 : 0),
      minHealthyStableTargets: stableWeight > 0 ? 1 : 0,
    },
    traffic: {
      router: 'alb',
      ingresses,
      stableService: options.stableService ?? name,
      canaryService: options.canaryService ?? `${name}-canary`,
      servicePort: options.servicePort,
    },
  });
  if (!event.success) throw new UsageError(issuesText(event.error.issues.map(flagPath)));
  return event.data;
}

const FLAG_NAMES: Record<string, string> = {
  'rollout.namespace': '--rollout (namespace)',
  'rollout.name': '--rollout (name)',
  'expected.canaryWeight': '--canary-weight',
  'expected.stableWeight': '--stable-weight',
  'expected.maxWeight': '--max-weight',
  'traffic.stableService': '--stable-service',
  'traffic.canaryService': '--canary-service',
  'traffic.servicePort': '--service-port',
};

/** Name the flag, not the internal field, in messages. */
function flagPath<T extends { path: PropertyKey[]; message: string }>(issue: T): T {
  if (issue.path.length === 0) return issue;
  const joined = issue.path.map(String).join('.');
  const ingressField = /^traffic\.ingresses\.\d+\.(\w+)$/.exec(joined)?.[1];
  const flag =
    FLAG_NAMES[joined] ??
    (ingressField ? `--${ingressField.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : undefined) ??
    (issue.path.length === 1
      ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
      : joined);
  return { ...issue, path: [flag] };
}

export const KNOWN_TRIGGERS = Object.keys(ROLLOUT_DETAIL_TYPES);
