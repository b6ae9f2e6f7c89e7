import { EventBridgeEnvelope } from '@aws-lambda-powertools/parser/envelopes/eventbridge';
import { z } from 'zod';
import { RolloutEventDetail } from '../core/contracts/rollout-event.js';
import type { LookState } from '../core/converge.js';
import { tryParseJson } from '../core/try-parse-json.js';

/**
 * What one message of the looks queue asks for: a rollout event to verify (the bus's rule puts
 * the whole EventBridge event there), or a verification this function sent back to wait
 * (`{"continuation": …}`), with everything its next look needs.
 */
export type Delivery =
  | { kind: 'event'; event: RolloutEventDetail }
  | { kind: 'continuation'; event: RolloutEventDetail; state: LookState };

export interface Continuation {
  continuation: { event: RolloutEventDetail; state: LookState };
}

const Judgement = z.object({
  verdict: z.enum(['Succeeded', 'Failed', 'Inconclusive']),
  // Findings are kept as sent: re-validating every earlier look's findings would pull the verdict
  // contract into the bundle for what this function itself wrote.
  findings: z.array(z.object({ code: z.string().min(1), resource: z.string() }).passthrough()),
  final: z.boolean(),
  complete: z.boolean(),
  movedOn: z.unknown().optional(),
});

/**
 * The state is ours (only this function and the bus's rule may send to the queue), yet it is read
 * back like any input: numbers that steer the schedule are checked, observations are kept as sent.
 */
const LookStateSchema = z.object({
  startedAt: z.number().int().nonnegative(),
  deadline: z.number().int().nonnegative(),
  attempts: z.number().int().nonnegative(),
  blindInARow: z.number().int().nonnegative(),
  steadyTaken: z.number().int().nonnegative(),
  backoffLooks: z.number().int().nonnegative(),
  longestAttemptMs: z.number().nonnegative(),
  records: z
    .array(
      z.object({
        attempt: z.number().int().positive(),
        observedAt: z.string().min(1),
        judgement: Judgement,
        observation: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .min(1),
});

const ContinuationSchema = z.object({
  continuation: z.object({ event: RolloutEventDetail, state: LookStateSchema }),
});

export class InvalidDeliveryError extends Error {
  override readonly name = 'InvalidDelivery';
}

/** The message body as the verify function reads it; throws InvalidDeliveryError saying what is wrong. */
export function parseDelivery(body: string): Delivery {
  const json = tryParseJson(body);
  if (json === undefined) throw new InvalidDeliveryError('the message body is empty or not JSON');
  if (json !== null && typeof json === 'object' && 'continuation' in json) {
    const continuation = ContinuationSchema.safeParse(json);
    if (!continuation.success) {
      throw new InvalidDeliveryError(`invalid continuation: ${continuation.error.message}`);
    }
    const { event, state } = continuation.data.continuation;
    return { kind: 'continuation', event, state: state as unknown as LookState };
  }
  const event = EventBridgeEnvelope.safeParse(json, RolloutEventDetail);
  if (!event.success) {
    const cause = (event.error as { cause?: unknown }).cause;
    const issues = cause instanceof Error ? cause.message : event.error.message;
    throw new InvalidDeliveryError(`invalid rollout event: ${issues}`);
  }
  return { kind: 'event', event: event.data };
}
