import { describe, expect, it } from 'vitest';
import type { RolloutEventDetail } from '../../lambdas/core/contracts/rollout-event.js';
import type { VerdictEventDetail } from '../../lambdas/core/contracts/verdict-event.js';
import { NewestEvents } from '../../lambdas/core/newest-events.js';
import type { Observation, Router } from '../../lambdas/core/observation.js';
import { routersFrom } from '../../lambdas/core/routers/index.js';
import type { Continuation, Delivery } from '../../lambdas/verify/delivery.js';
import { type LookDeps, lookAtDelivery, queueDelaySeconds } from '../../lambdas/verify/looks.js';
import { healthyAlbObservation } from '../support/alb-observation.js';
import { rolloutEvent } from '../support/rollout-events.js';

/** An ALB router that answers from `answers` in turn (the last one repeats), counting its looks. */
function scriptedRouter(...answers: Array<Observation | 'hang'>) {
  let looks = 0;
  const router: Router = {
    kind: 'alb',
    observe: async (_event, signal) => {
      const answer = answers[Math.min(looks++, answers.length - 1)] as Observation | 'hang';
      if (answer !== 'hang') return answer;
      // Stuck where the signal does not reach (e.g. waiting for the Describe budget).
      return await new Promise<Observation>(() => undefined).finally(() => signal);
    },
  };
  return { routers: routersFrom([router]), looks: () => looks };
}

function deps(routers: LookDeps['routers'], overrides: Partial<LookDeps> = {}) {
  const published: VerdictEventDetail[] = [];
  const requeued: Array<{ continuation: Continuation; delaySeconds: number }> = [];
  const slept: number[] = [];
  const all: LookDeps = {
    routers,
    verify: { initialDelayMs: 400, maxDelayMs: 2_000, steadyLooks: 10, routesFirst: false },
    holdMs: 0,
    newestEvents: new NewestEvents(),
    publish: async (verdict) => void published.push(verdict),
    requeue: async (continuation, delaySeconds) => void requeued.push({ continuation, delaySeconds }),
    invocationEndsAt: () => Date.now() + 60_000,
    sleep: async (ms) => void slept.push(ms),
    ...overrides,
  };
  return { deps: all, published, requeued, slept };
}

const event = (overrides: Parameters<typeof rolloutEvent>[0] = {}): RolloutEventDetail =>
  rolloutEvent({ eventId: 'e-1', deadlineSeconds: 30, ...overrides });
const wrongWeights = (): Observation => ({ ...healthyAlbObservation(0), routesOnly: true, backends: [] });

describe('lookAtDelivery', () => {
  it('publishes at the first look when the ALB is right, and sends nothing back', async () => {
    const { routers } = scriptedRouter(healthyAlbObservation(20));
    const { deps: d, published, requeued } = deps(routers);
    const outcome = await lookAtDelivery({ kind: 'event', event: event() }, d);
    expect(outcome).toMatchObject({ outcome: 'verified', verdict: { verdict: 'Succeeded', attempts: 1 } });
    expect(published).toHaveLength(1);
    expect(requeued).toEqual([]);
  });

  it('without a hold, a wait goes back to the queue: whole seconds, at least 1', async () => {
    const { routers, looks } = scriptedRouter(wrongWeights());
    const { deps: d, requeued, slept } = deps(routers);
    const outcome = await lookAtDelivery({ kind: 'event', event: event() }, d);
    expect(outcome).toEqual({ outcome: 'requeued', attempts: 1, delaySeconds: 1 });
    expect(looks()).toBe(1);
    expect(slept).toEqual([]);
    expect(requeued[0]?.continuation.continuation.state).toMatchObject({ attempts: 1, steadyTaken: 1 });
  });

  it('with a hold, sub-second waits stay in the invocation until the hold is spent', async () => {
    const { routers, looks } = scriptedRouter(wrongWeights());
    const { deps: d, requeued, slept } = deps(routers, { holdMs: 1_000 });
    await lookAtDelivery({ kind: 'event', event: event() }, d);
    // Steady waits are 200–400 ms: the hold takes as many as fit in 1 s, the next goes to the queue.
    expect(slept.every((ms) => ms >= 200 && ms <= 400)).toBe(true);
    expect(slept.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(1_000);
    expect(looks()).toBe(slept.length + 1);
    expect(requeued).toHaveLength(1);
  });

  it('a continuation goes on from its state and is decided once the ALB is right', async () => {
    const first = scriptedRouter(wrongWeights());
    const started = deps(first.routers);
    await lookAtDelivery({ kind: 'event', event: event() }, started.deps);
    const sent = started.requeued[0]?.continuation.continuation;
    if (!sent) throw new Error('nothing was sent back');
    const second = scriptedRouter(healthyAlbObservation(20));
    const resumed = deps(second.routers);
    const outcome = await lookAtDelivery({ kind: 'continuation', ...sent } as Delivery, resumed.deps);
    expect(outcome).toMatchObject({ outcome: 'verified', verdict: { verdict: 'Succeeded', attempts: 2 } });
  });

  it('a continuation delivered after its deadline still gets one full look, whose reading is the verdict', async () => {
    const first = scriptedRouter(healthyAlbObservation(0));
    const started = deps(first.routers);
    await lookAtDelivery({ kind: 'event', event: event({ deadlineSeconds: 30 }) }, started.deps);
    const sent = started.requeued[0]?.continuation.continuation;
    if (!sent) throw new Error('nothing was sent back');
    // The queue held it past the deadline.
    const late = { ...sent, state: { ...sent.state, deadline: Date.now() - 5_000 } };
    const again = scriptedRouter(healthyAlbObservation(0));
    const resumed = deps(again.routers);
    const outcome = await lookAtDelivery({ kind: 'continuation', ...late } as Delivery, resumed.deps);
    expect(outcome).toMatchObject({ outcome: 'verified', verdict: { verdict: 'Failed' } });
    expect(again.looks()).toBe(1);
    expect(resumed.requeued).toEqual([]);
  });

  it('a look the invocation’s end cuts short is sent back, not turned into a verdict', async () => {
    const { routers } = scriptedRouter('hang');
    const { deps: d, published, requeued } = deps(routers, { invocationEndsAt: () => Date.now() + 50 });
    const outcome = await lookAtDelivery({ kind: 'event', event: event() }, d);
    expect(outcome).toMatchObject({ outcome: 'requeued' });
    expect(published).toEqual([]);
    expect(requeued[0]?.continuation.continuation.state.records.at(-1)?.judgement.findings[0]).toMatchObject({
      code: 'ObservationError',
      observed: 'deadline',
    });
  });

  it('skips an event without a router for it, and one older than what the container already verified', async () => {
    const { routers } = scriptedRouter(healthyAlbObservation(20));
    const { deps: d } = deps(routers);
    await expect(
      lookAtDelivery({ kind: 'event', event: event({ traffic: { router: 'none' } }) }, d),
    ).resolves.toMatchObject({ outcome: 'skipped' });
    await lookAtDelivery(
      { kind: 'event', event: event({ eventId: 'e-2', step: { index: 2, count: 4 } }) },
      d,
    );
    await expect(
      lookAtDelivery({ kind: 'event', event: event({ eventId: 'e-3', step: { index: 1, count: 4 } }) }, d),
    ).resolves.toEqual({ outcome: 'skipped', reason: 'a newer step or revision was already verified' });
  });
});

describe('queueDelaySeconds', () => {
  it('rounds to whole seconds within SQS limits', () => {
    expect(queueDelaySeconds(0)).toBe(1);
    expect(queueDelaySeconds(400)).toBe(1);
    expect(queueDelaySeconds(1_600)).toBe(2);
    expect(queueDelaySeconds(2_000_000)).toBe(900);
  });
});
