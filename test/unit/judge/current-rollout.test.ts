import { describe, expect, it } from 'vitest';
import { type AlbTraffic, Expected } from '../../../lambdas/core/contracts/rollout-event.js';
import { currentRolloutReader } from '../../../lambdas/core/current-rollout.js';
import { judge } from '../../../lambdas/core/judge/index.js';
import type {
  Observation,
  ObservedCurrentRollout,
  ObservedTarget,
} from '../../../lambdas/core/observation.js';
import { rolloutObject } from '../../../sim/kube/fixtures.js';
import { KubeDouble, kubeFor } from '../../support/kube-double.js';
import { rolloutEvent } from '../../support/rollout-events.js';

/**
 * A verification that outlives its step: the Rollout, read next to the routes, says where it is
 * now. Routes that carry what it expects now are Succeeded for that state (a promote or a full
 * promotion the event could not foresee); routes that carry neither are left to the verification
 * of the state the Rollout moved on to (RolloutMovedOn), unless both states have the same split.
 */

const healthy = (count: number): ObservedTarget[] =>
  Array.from({ length: count }, (_, i) => ({ id: `10.0.0.${i + 1}`, port: 8080, state: 'healthy' }));

const expected = (canaryWeight: number, overrides: Partial<Expected> = {}): Expected =>
  Expected.parse({ canaryWeight, stableWeight: 100 - canaryWeight, derivation: 'test', ...overrides });

function observation(canary: number, current?: ObservedCurrentRollout): Observation {
  return {
    router: 'alb',
    routes: [
      {
        resource: 'rule',
        description: 'listener rule',
        destinations: [
          { resource: 'tg/canary', role: 'canary', weight: canary },
          { resource: 'tg/stable', role: 'stable', weight: 100 - canary },
        ],
      },
    ],
    backends: [
      { resource: 'tg/canary', role: 'canary', targets: healthy(2) },
      { resource: 'tg/stable', role: 'stable', targets: healthy(8) },
    ],
    problems: [],
    ...(current ? { current } : {}),
  };
}

const now = (canaryWeight: number, stepIndex: number): ObservedCurrentRollout => ({
  resource: 'rollout/shop/checkout',
  stepIndex,
  expected: expected(canaryWeight),
});

describe('judge with the Rollout read live', () => {
  it('setWeight 20 verified after the rollout was fully promoted: Succeeded for where it is now', () => {
    const judgement = judge(expected(20), observation(0, now(0, 4)));
    expect(judgement).toMatchObject({ verdict: 'Succeeded', findings: [], movedOn: { stepIndex: 4 } });
  });

  it('without the live read the same routes are the ambiguous canary 0 (or a failure)', () => {
    const withSuccessor = expected(20, {
      successors: [{ canaryWeight: 0, stableWeight: 100, reason: 'fully promoted' }],
    });
    expect(judge(withSuccessor, observation(0)).findings.map((finding) => finding.code)).toEqual([
      'AmbiguousState',
    ]);
    expect(judge(expected(20), observation(0)).verdict).toBe('Failed');
  });

  it('routes that carry neither the event’s state nor the one the Rollout moved on to: RolloutMovedOn, not a Failed against a left state', () => {
    const judgement = judge(expected(20), observation(0, now(50, 2)));
    // not final: the routes may yet reach what the Rollout expects now (the controller lags behind Argo)
    expect(judgement).toMatchObject({ verdict: 'Inconclusive', final: false, complete: true });
    expect(judgement.movedOn).toBeUndefined();
    expect(judgement.findings).toHaveLength(1);
    expect(judgement.findings[0]).toMatchObject({
      code: 'RolloutMovedOn',
      observed: 'step 2: canary 50 / stable 50',
    });
    expect(judgement.findings[0]?.message).toContain('WeightMismatch against the new one');
  });

  it('routes already past what the read Rollout expects (Argo writes them before the status): RolloutMovedOn, not final', () => {
    // The event: the pause behind setWeight 20. Read now: still there, though the routes already
    // carry the end of the steps (canary 100), a state the Rollout reaches next.
    const paused = {
      ...now(20, 1),
      expected: expected(20, {
        successors: [{ canaryWeight: 100, stableWeight: 0, reason: 'all steps done' }],
      }),
    };
    const judgement = judge(expected(20), observation(100, paused));
    expect(judgement).toMatchObject({ verdict: 'Inconclusive', final: false });
    expect(judgement.findings.map((finding) => finding.code)).toEqual(['RolloutMovedOn']);
  });

  it('a Rollout at another step with the same split is judged as before: the mismatch is Failed', () => {
    const judgement = judge(expected(20), observation(0, now(20, 1)));
    expect(judgement.verdict).toBe('Failed');
    expect(judgement.findings[0]).toMatchObject({
      code: 'WeightMismatch',
      expected: 'canary 20 / stable 80',
    });
  });

  it('the Rollout still at the event’s step: a never-applied weight is Failed, not ambiguous', () => {
    const withSuccessor = expected(20, {
      successors: [{ canaryWeight: 0, stableWeight: 100, reason: 'fully promoted' }],
    });
    const judgement = judge(withSuccessor, observation(0, now(20, 1)));
    expect(judgement.verdict).toBe('Failed');
    expect(judgement.findings.map((finding) => finding.code)).toEqual(['WeightMismatch']);
  });

  it('another revision or a re-created Rollout supersedes the event: RolloutMovedOn, final', () => {
    const judgement = judge(
      expected(20),
      observation(20, {
        resource: 'rollout/shop/checkout',
        supersededBy: 'the Rollout is at revision 4 now, not 3',
      }),
    );
    expect(judgement).toMatchObject({ verdict: 'Inconclusive', final: true });
    expect(judgement.findings[0]).toMatchObject({
      code: 'RolloutMovedOn',
      observed: 'the Rollout is at revision 4 now, not 3',
    });
  });
});

describe('currentRolloutReader', () => {
  const event = rolloutEvent();

  it('derives what the Rollout expects now from its persisted status', async () => {
    const kube = new KubeDouble().put(
      'argoproj.io',
      'rollouts',
      'shop',
      'checkout',
      rolloutObject({
        metadata: {
          uid: event.rollout.uid,
          annotations: { 'rollout.argoproj.io/revision': String(event.rollout.revision) },
        },
      }),
    );
    const current = await currentRolloutReader(kubeFor(kube))(event);
    expect(current).toMatchObject({
      resource: 'rollout/shop/checkout',
      stepIndex: 1,
      expected: { canaryWeight: 20 },
    });
  });

  it('names another revision and a re-created Rollout', async () => {
    const kube = new KubeDouble().put(
      'argoproj.io',
      'rollouts',
      'shop',
      'checkout',
      rolloutObject({
        metadata: { uid: event.rollout.uid, annotations: { 'rollout.argoproj.io/revision': '99' } },
      }),
    );
    expect(await currentRolloutReader(kubeFor(kube))(event)).toMatchObject({
      supersededBy: `the Rollout is at revision 99 now, not ${event.rollout.revision}`,
    });
    const recreated = new KubeDouble().put(
      'argoproj.io',
      'rollouts',
      'shop',
      'checkout',
      rolloutObject({ metadata: { uid: '00000000-0000-4000-8000-000000000000' } }),
    );
    expect(await currentRolloutReader(kubeFor(recreated))(event)).toMatchObject({
      supersededBy: expect.stringContaining('re-created'),
    });
  });

  it('turns a ping-pong Rollout read after its roles swapped around to the event’s roles', async () => {
    const pingPong = { pingService: 'checkout-ping', pongService: 'checkout-pong' };
    // The event: ping stable, pong the canary at setWeight 20.
    const pingPongEvent = rolloutEvent({
      traffic: {
        ...(event.traffic as AlbTraffic),
        stableService: 'checkout-ping',
        canaryService: 'checkout-pong',
        pingPong,
      },
    });
    // Read after the full promotion: pong became stable (stablePingPong swapped), all traffic on it.
    const kube = new KubeDouble().put(
      'argoproj.io',
      'rollouts',
      'shop',
      'checkout',
      rolloutObject({
        metadata: {
          uid: pingPongEvent.rollout.uid,
          annotations: { 'rollout.argoproj.io/revision': String(pingPongEvent.rollout.revision) },
        },
        spec: {
          strategy: {
            canary: {
              canaryService: null,
              stableService: null,
              pingPong,
              trafficRouting: { alb: { ingress: 'checkout', servicePort: 80, rootService: 'checkout-root' } },
            },
          },
        },
        status: {
          currentStepIndex: 4,
          stableRS: '6d4f8c9b7',
          currentPodHash: '6d4f8c9b7',
          canary: { stablePingPong: 'pong' },
        },
      } as never),
    );
    const current = await currentRolloutReader(kubeFor(kube))(pingPongEvent);
    // In the event's roles the canary (pong) now carries everything.
    expect(current).toMatchObject({ stepIndex: 4, expected: { canaryWeight: 100, stableWeight: 0 } });
  });

  it('reads nothing for a live event: it was made from that very read', async () => {
    const kube = new KubeDouble();
    expect(await currentRolloutReader(kubeFor(kube))({ ...event, trigger: 'live' })).toBeUndefined();
    expect(kube.requests).toEqual([]);
  });
});
