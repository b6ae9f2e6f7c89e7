import type { RolloutEventDetail } from '../core/contracts/rollout-event.js';
import type { VerdictEventDetail } from '../core/contracts/verdict-event.js';
import { guardedAttempt, LookSchedule, type LookState } from '../core/converge.js';
import type { NewestEvents } from '../core/newest-events.js';
import type { Routers } from '../core/routers/index.js';
import { prepareVerification, unverifiableReason, type VerifySettings, verdictOf } from '../core/verify.js';
import type { Continuation, Delivery } from './delivery.js';

/** SQS delays are whole seconds, at most 15 minutes. */
export const MAX_QUEUE_DELAY_SECONDS = 900;

export interface LookDeps {
  routers: Routers;
  /** The schedule and reading settings (deadline, delays, routes first, the live Rollout read). */
  verify: VerifySettings;
  /**
   * Total time one delivery may wait inside its invocation between looks. Only waits under a
   * second (what an SQS delay cannot express) are taken here; the rest go back to the queue.
   */
  holdMs: number;
  newestEvents: NewestEvents;
  publish: (verdict: VerdictEventDetail) => Promise<void>;
  /** Sends the verification back to the looks queue, to be delivered in `delaySeconds`. */
  requeue: (continuation: Continuation, delaySeconds: number) => Promise<void>;
  /** When this invocation must stop looking (epoch ms), to publish or re-queue in time. */
  invocationEndsAt: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type DeliveryOutcome =
  | { outcome: 'verified'; verdict: VerdictEventDetail }
  | { outcome: 'requeued'; attempts: number; delaySeconds: number }
  | { outcome: 'skipped'; reason: string };

/**
 * One delivery of the looks queue: look (again), then publish the verdict once decided, or send
 * the verification back to the queue to wait. No Lambda slot is held while the ALB converges
 * (beyond `holdMs` of sub-second waits): a burst of steps is paced by the Describe budget, not
 * by the function's concurrency.
 */
export async function lookAtDelivery(delivery: Delivery, deps: LookDeps): Promise<DeliveryOutcome> {
  const { event } = delivery;
  if (delivery.kind === 'event') {
    const skip =
      unverifiableReason(event, deps.routers) ??
      (deps.newestEvents.isStale(event) ? 'a newer step or revision was already verified' : undefined);
    if (skip) return { outcome: 'skipped', reason: skip };
    deps.newestEvents.record(event);
  }
  const prepared = prepareVerification(event, deps.routers, deps.verify);
  const schedule =
    delivery.kind === 'continuation'
      ? LookSchedule.resume(prepared.schedule, delivery.state)
      : LookSchedule.start(prepared.schedule);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  let heldMs = 0;
  for (;;) {
    const startedAt = Date.now();
    // A look that starts late (the queue was backed up) still gets room for one look: the
    // verifier's own queueing is not evidence about the rollout.
    const lookEndsAt = Math.min(
      Math.max(schedule.deadline, startedAt + schedule.marginMs),
      deps.invocationEndsAt(),
    );
    const signal = AbortSignal.timeout(Math.max(1, lookEndsAt - startedAt));
    const step = await guardedAttempt(prepared.look, signal, { lastLook: schedule.isLastLook(startedAt) });
    const deadlinePassed = signal.aborted && Date.now() >= schedule.deadline;
    const next = schedule.record(step, startedAt, deadlinePassed);
    if (next.done) {
      const verdict = verdictOf(event, schedule.result(), prepared.deadlineSeconds);
      await deps.publish(verdict);
      return { outcome: 'verified', verdict };
    }
    const roomInInvocation = deps.invocationEndsAt() - Date.now() - 2 * schedule.marginMs;
    if (next.delayMs < 1_000 && heldMs + next.delayMs <= deps.holdMs && next.delayMs < roomInInvocation) {
      heldMs += next.delayMs;
      await sleep(next.delayMs);
      continue;
    }
    const delaySeconds = queueDelaySeconds(next.delayMs);
    await deps.requeue(continuationOf(event, schedule.state), delaySeconds);
    return { outcome: 'requeued', attempts: schedule.state.attempts, delaySeconds };
  }
}

/** The wait as an SQS delay: whole seconds, at least 1 (a shorter wait did not fit the hold), at most 900. */
export function queueDelaySeconds(delayMs: number): number {
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(1, Math.round(delayMs / 1000)));
}

function continuationOf(event: RolloutEventDetail, state: LookState): Continuation {
  return { continuation: { event, state } };
}
