import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { type EventTrigger, LIVE_TRIGGER, type RolloutTrigger } from '../../../contract/event-catalog.js';
import { RolloutEventDetail, type RolloutEventDetailInput } from '../contracts/rollout-event.js';
import { deriveExpectedState } from './expected-state.js';
import { assertWithinJsonBounds } from './json-bounds.js';
import {
  DEADLINE_ANNOTATION,
  NotificationBody,
  NotificationRollout,
  REVISION_ANNOTATION,
} from './notification-body.js';
import { buildTraffic } from './traffic.js';

export interface ValidationIssue {
  /** Where in the notification body, e.g. `rollout.metadata.annotations["rollout.argoproj.io/revision"]`. */
  path: string;
  message: string;
  /** The offending value when it is a short scalar, to spot a template typo at a glance. */
  received?: string;
}

/**
 * The notification body is not one the verifier can act on. `issues` names every failing path;
 * the message lists them for an operator reading a log line or an HTTP 400 body.
 */
export class NotificationValidationError extends Error {
  override readonly name = 'NotificationValidationError';
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[], subject?: string) {
    super(formatMessage(issues, subject));
    this.issues = issues;
  }
}

export interface NormalizeContext {
  /** When the ingest function received the notification. */
  receivedAt: Date;
  /** The cluster the notification came from (endpoint configuration or CLI flag). */
  cluster?: string;
}

/**
 * Turn an Argo Rollouts notification body (`{"trigger": …, "rollout": <Rollout>}`, or its JSON
 * text) into the normalized, validated rollout event.
 * @throws NotificationValidationError when the body does not describe a Rollout we can verify.
 */
export function normalizeNotification(body: unknown, context: NormalizeContext): NotificationEvent {
  withinBounds(body);
  const input = typeof body === 'string' ? parseJson(body) : body;
  const parsed = NotificationBody.safeParse(input, { error: requiredMessage, reportInput: true });
  if (!parsed.success) {
    throw new NotificationValidationError(toIssues(parsed.error.issues), describeSubject(input));
  }
  const { trigger, rollout } = parsed.data;
  return { ...eventOf(trigger, rollout, context), trigger };
}

/** A rollout event made from a notification: its trigger has a detail-type on the bus. */
export type NotificationEvent = RolloutEventDetail & { trigger: RolloutTrigger };

/**
 * The rollout event for a Rollout as the API server holds it now (`kubectl get rollout -o json`):
 * its persisted status, not a notification's pre-transition snapshot (trigger `live`).
 * @throws NotificationValidationError when the object is not a Rollout we can verify.
 */
export function normalizeLiveRollout(rollout: unknown, context: NormalizeContext): RolloutEventDetail {
  withinBounds(rollout);
  const input = typeof rollout === 'string' ? parseJson(rollout) : rollout;
  const parsed = NotificationRollout.safeParse(input, { error: requiredMessage, reportInput: true });
  if (!parsed.success) {
    throw new NotificationValidationError(
      toIssues(parsed.error.issues, ['rollout']),
      describeSubject({ trigger: LIVE_TRIGGER, rollout: input }),
    );
  }
  return eventOf(LIVE_TRIGGER, parsed.data, context);
}

/** Depth and size bounds on everything passed through, before any schema walks it. */
function withinBounds(input: unknown): void {
  assertWithinJsonBounds(
    input,
    (violation) =>
      new NotificationValidationError([
        { path: formatIssuePath(violation.path), message: violation.message },
      ]),
  );
}

function eventOf(
  trigger: EventTrigger,
  rollout: NotificationRollout,
  context: NormalizeContext,
): RolloutEventDetail {
  const { metadata, status } = rollout;
  const revision = metadata.annotations[REVISION_ANNOTATION];
  const deadlineSeconds = metadata.annotations[DEADLINE_ANNOTATION];
  const derived = deriveExpectedState(trigger, rollout);

  const detail: RolloutEventDetailInput = {
    schemaVersion: 1,
    eventId: computeEventId({
      uid: metadata.uid,
      revision,
      trigger,
      stepIndex: derived.step.index,
      resourceVersion: metadata.resourceVersion ?? undefined,
    }),
    trigger,
    receivedAt: context.receivedAt.toISOString(),
    ...(context.cluster ? { cluster: context.cluster } : {}),
    rollout: {
      namespace: metadata.namespace,
      name: metadata.name,
      uid: metadata.uid,
      revision,
      // On on-rollout-updated the snapshot's currentPodHash still belongs to the previous
      // revision and the new hash is not in the payload: leave it out rather than mislead.
      ...(status.currentPodHash && trigger !== 'on-rollout-updated'
        ? { podTemplateHash: status.currentPodHash }
        : {}),
      ...(status.stableRS ? { stablePodTemplateHash: status.stableRS } : {}),
      ...(metadata.generation != null ? { generation: metadata.generation } : {}),
      ...(metadata.resourceVersion ? { resourceVersion: metadata.resourceVersion } : {}),
    },
    strategy: rollout.spec.strategy.canary ? 'canary' : 'blueGreen',
    ...(status.phase ? { phase: status.phase } : {}),
    aborted: derived.aborted,
    step: derived.step,
    expected: derived.expected,
    traffic: buildTraffic(trigger, rollout),
    ...(deadlineSeconds != null ? { deadlineSeconds } : {}),
  };

  const result = RolloutEventDetail.safeParse(detail);
  if (!result.success) {
    // The body passed its own schema but the event built from it does not fit the contract:
    // name the event's paths so the mismatch can still be traced.
    throw new NotificationValidationError(
      result.error.issues.map((issue) => ({
        path: `(normalized event) ${formatIssuePath(issue.path)}`,
        message: issue.message,
      })),
      `${trigger}, rollout ${metadata.namespace}/${metadata.name}`,
    );
  }
  return result.data;
}

export interface EventIdentity {
  uid: string;
  revision: number;
  trigger: EventTrigger;
  stepIndex: number;
  resourceVersion?: string;
}

/**
 * Deterministic: Argo retries a failed POST with the same body, and a retried delivery must
 * deduplicate. Distinct events of one reconcile share the resourceVersion but not the trigger.
 */
export function computeEventId(identity: EventIdentity): string {
  const material = JSON.stringify([
    identity.uid,
    identity.revision,
    identity.trigger,
    identity.stepIndex,
    identity.resourceVersion ?? null,
  ]);
  return createHash('sha256').update(material).digest('hex').slice(0, 32);
}

/** `['rollout', 'metadata', 'annotations', 'a/b']` → `rollout.metadata.annotations["a/b"]`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let formatted = '';
  for (const segment of path) {
    if (typeof segment === 'number') formatted += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment)) {
      formatted += formatted ? `.${segment}` : segment;
    } else formatted += `[${JSON.stringify(String(segment))}]`;
  }
  return formatted || '(body)';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new NotificationValidationError([
      { path: '(body)', message: `is not valid JSON (${(error as Error).message})` },
    ]);
  }
}

/** Parse-level message for absent values; schema-level messages take precedence. */
function requiredMessage(issue: z.core.$ZodRawIssue): string | undefined {
  return issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined;
}

function toIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): ValidationIssue[] {
  return issues.map((issue) => {
    const received = describeReceived(issue.input);
    return {
      path: formatIssuePath([...prefix, ...issue.path]),
      message: issue.message,
      ...(received !== undefined ? { received } : {}),
    };
  });
}

function describeReceived(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  if (input === null || typeof input === 'number' || typeof input === 'boolean') return String(input);
  if (typeof input === 'string') {
    return JSON.stringify(input.length > 80 ? `${input.slice(0, 77)}...` : input);
  }
  return Array.isArray(input) ? 'an array' : `a ${typeof input}`;
}

/** Best effort, from the raw body: which notification and rollout the problems belong to. */
function describeSubject(input: unknown): string | undefined {
  const record = (value: unknown): Record<string, unknown> | undefined =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  const body = record(input);
  const metadata = record(record(body?.rollout)?.metadata);
  const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
  const trigger = text(body?.trigger);
  const name = text(metadata?.name);
  const namespace = text(metadata?.namespace);
  const rollout = name ? `rollout ${namespace ? `${namespace}/` : ''}${name}` : undefined;
  const parts = [trigger, rollout].filter((part): part is string => part !== undefined);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

function formatMessage(issues: readonly ValidationIssue[], subject?: string): string {
  const head = `Invalid Argo Rollouts notification${subject ? ` (${subject})` : ''}: ${issues.length} problem${issues.length === 1 ? '' : 's'}`;
  const lines = issues.map(
    (issue) =>
      `  - ${issue.path}: ${issue.message}${issue.received !== undefined ? ` (received ${issue.received})` : ''}`,
  );
  return [head, ...lines].join('\n');
}
