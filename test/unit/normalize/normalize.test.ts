import { describe, expect, it } from 'vitest';
import { RolloutEventDetail } from '../../../lambdas/core/contracts/rollout-event.js';
import {
  computeEventId,
  NotificationValidationError,
  normalizeNotification,
} from '../../../lambdas/core/normalize/index.js';
import { fixture } from './rollout-builder.js';

const RECEIVED_AT = new Date('2025-11-20T10:03:00.000Z');
const context = { receivedAt: RECEIVED_AT, cluster: 'prod-eu-west-1' };

type Row = {
  fixture: string;
  trigger: string;
  strategy: 'canary' | 'blueGreen';
  router: string;
  step: [index: number, count: number];
  weights: [canary: number, stable: number, max: number];
  successors: number[];
  minHealthy: [canary: number, stable: number];
  aborted: boolean;
  derivation: string;
};

const rows: Row[] = [
  {
    fixture: 'alb-step-completed-setweight',
    trigger: 'on-rollout-step-completed',
    strategy: 'canary',
    router: 'alb',
    step: [2, 8],
    weights: [40, 60, 100],
    successors: [60, 80, 100, 0],
    minHealthy: [4, 1],
    aborted: false,
    derivation: 'setWeight 40 at step 2 (step 2 just completed)',
  },
  {
    fixture: 'alb-step-completed-pause',
    trigger: 'on-rollout-step-completed',
    strategy: 'canary',
    router: 'alb',
    step: [3, 8],
    weights: [40, 60, 100],
    successors: [60, 80, 100, 0],
    minHealthy: [4, 1],
    aborted: false,
    derivation: 'setWeight 40 at step 2 (step 3 just completed)',
  },
  {
    fixture: 'alb-paused',
    trigger: 'on-rollout-paused',
    strategy: 'canary',
    router: 'alb',
    step: [1, 8],
    weights: [20, 80, 100],
    successors: [],
    minHealthy: [2, 1],
    aborted: false,
    derivation: 'setWeight 20 at step 0 (paused at step 1)',
  },
  {
    fixture: 'alb-resumed',
    trigger: 'on-rollout-resumed',
    strategy: 'canary',
    router: 'alb',
    step: [1, 8],
    weights: [20, 80, 100],
    successors: [40, 60, 80, 100, 0],
    minHealthy: [2, 1],
    aborted: false,
    derivation: 'setWeight 20 at step 0 (resumed at step 1)',
  },
  {
    fixture: 'alb-updated',
    trigger: 'on-rollout-updated',
    strategy: 'canary',
    router: 'alb',
    step: [0, 8],
    weights: [0, 100, 100],
    successors: [20],
    minHealthy: [0, 1],
    aborted: false,
    derivation:
      'new revision 6: the canary takes no traffic until its new ReplicaSet has available pods, then the steps restart at step 0',
  },
  {
    fixture: 'alb-completed',
    trigger: 'on-rollout-completed',
    strategy: 'canary',
    router: 'alb',
    step: [8, 8],
    weights: [0, 100, 100],
    successors: [],
    minHealthy: [0, 1],
    aborted: false,
    derivation:
      "rollout completed: revision 5 becomes stable and takes all traffic through the stable side (the payload's status.stableRS still names the previous hash)",
  },
  {
    fixture: 'alb-aborted',
    trigger: 'on-rollout-aborted',
    strategy: 'canary',
    router: 'alb',
    step: [4, 8],
    weights: [0, 100, 100],
    successors: [],
    minHealthy: [0, 1],
    aborted: true,
    derivation: 'aborted: all traffic returns to the stable side',
  },
  {
    fixture: 'alb-multiple-ingresses',
    trigger: 'on-rollout-step-completed',
    strategy: 'canary',
    router: 'alb',
    step: [0, 8],
    weights: [20, 80, 100],
    successors: [],
    minHealthy: [2, 1],
    aborted: false,
    derivation: 'setWeight 20 at step 0 (step 0 just completed)',
  },
  {
    fixture: 'alb-status-arns',
    trigger: 'on-rollout-step-completed',
    strategy: 'canary',
    router: 'alb',
    step: [4, 8],
    weights: [60, 40, 100],
    successors: [80, 100, 0],
    minHealthy: [6, 1],
    aborted: false,
    derivation: 'setWeight 60 at step 4 (step 4 just completed)',
  },
  {
    fixture: 'alb-max-traffic-weight-1000',
    trigger: 'on-rollout-step-completed',
    strategy: 'canary',
    router: 'alb',
    step: [0, 6],
    weights: [5, 995, 1000],
    successors: [50],
    minHealthy: [1, 1],
    aborted: false,
    derivation: 'setWeight 5 at step 0 (step 0 just completed); weights out of maxTrafficWeight 1000',
  },
  {
    fixture: 'alb-set-canary-scale',
    trigger: 'on-rollout-step-completed',
    strategy: 'canary',
    router: 'alb',
    step: [1, 6],
    weights: [10, 90, 100],
    successors: [],
    minHealthy: [2, 1],
    aborted: false,
    derivation: 'setWeight 10 at step 1 (step 1 just completed)',
  },
  {
    fixture: 'canary-no-traffic-routing',
    trigger: 'on-rollout-step-completed',
    strategy: 'canary',
    router: 'none',
    step: [0, 4],
    weights: [20, 80, 100],
    successors: [60],
    minHealthy: [1, 1],
    aborted: false,
    derivation:
      'setWeight 20 at step 0 (step 0 just completed); no traffic routing: the split follows replica counts',
  },
  {
    fixture: 'istio-paused',
    trigger: 'on-rollout-paused',
    strategy: 'canary',
    router: 'istio',
    step: [1, 8],
    weights: [20, 80, 100],
    successors: [],
    minHealthy: [1, 1],
    aborted: false,
    derivation: 'setWeight 20 at step 0 (paused at step 1)',
  },
  {
    fixture: 'ambassador-step-completed',
    trigger: 'on-rollout-step-completed',
    strategy: 'canary',
    router: 'ambassador',
    step: [2, 8],
    weights: [40, 60, 100],
    successors: [60, 80, 100, 0],
    minHealthy: [2, 1],
    aborted: false,
    derivation: 'setWeight 40 at step 2 (step 2 just completed)',
  },
  {
    fixture: 'bluegreen-paused-before-promotion',
    trigger: 'on-rollout-paused',
    strategy: 'blueGreen',
    router: 'none',
    step: [0, 0],
    weights: [0, 100, 100],
    successors: [],
    minHealthy: [0, 3],
    aborted: false,
    derivation:
      'blue-green paused before promotion: the active Service keeps all traffic, the preview Service takes none',
  },
  {
    fixture: 'bluegreen-completed-after-promotion',
    trigger: 'on-rollout-completed',
    strategy: 'blueGreen',
    router: 'none',
    step: [0, 0],
    weights: [0, 100, 100],
    successors: [],
    minHealthy: [0, 3],
    aborted: false,
    derivation: 'blue-green completed: revision 9 serves all traffic through the active Service',
  },
];

describe('normalizeNotification', () => {
  it.each(rows)('$fixture', (row) => {
    const detail = normalizeNotification(fixture(row.fixture), context);
    expect(RolloutEventDetail.safeParse(detail).success).toBe(true);
    expect(detail.trigger).toBe(row.trigger);
    expect(detail.strategy).toBe(row.strategy);
    expect(detail.traffic.router).toBe(row.router);
    expect([detail.step.index, detail.step.count]).toEqual(row.step);
    expect([detail.expected.canaryWeight, detail.expected.stableWeight, detail.expected.maxWeight]).toEqual(
      row.weights,
    );
    expect(detail.expected.successors.map((successor) => successor.canaryWeight)).toEqual(row.successors);
    expect([detail.expected.minHealthyCanaryTargets, detail.expected.minHealthyStableTargets]).toEqual(
      row.minHealthy,
    );
    expect(detail.aborted).toBe(row.aborted);
    expect(detail.expected.derivation).toBe(row.derivation);
  });

  it('fills the envelope and the rollout reference', () => {
    const detail = normalizeNotification(fixture('alb-status-arns'), context);
    expect(detail).toMatchObject({
      schemaVersion: 1,
      trigger: 'on-rollout-step-completed',
      receivedAt: '2025-11-20T10:03:00.000Z',
      cluster: 'prod-eu-west-1',
      phase: 'Progressing',
      deadlineSeconds: 90,
      rollout: {
        namespace: 'shop',
        name: 'checkout',
        uid: '3f1c2a9e-7d4b-4c1e-9a55-0b6c2f8e1d27',
        revision: 5,
        podTemplateHash: '7b9c5d8f6',
        stablePodTemplateHash: '6d4f8c7b9',
        generation: 12,
        resourceVersion: '48216644',
      },
    });
    // The step-completed of a setWeight step carries the weights from before the step: not "applied".
    expect(detail.expected.controllerApplied).toBeUndefined();
    expect(detail.eventId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('leaves optional fields out when the body has none', () => {
    const detail = normalizeNotification(fixture('alb-paused'), { receivedAt: RECEIVED_AT });
    expect(detail).not.toHaveProperty('cluster');
    expect(detail).not.toHaveProperty('deadlineSeconds');
  });

  it('on-rollout-updated: no podTemplateHash (the snapshot still holds the previous revision hash)', () => {
    const detail = normalizeNotification(fixture('alb-updated'), context);
    expect(detail.rollout.revision).toBe(6);
    expect(detail.rollout).not.toHaveProperty('podTemplateHash');
    expect(detail.rollout.stablePodTemplateHash).toBe('7b9c5d8f6');
  });

  it('on-rollout-completed: stablePodTemplateHash is the pre-transition (old) hash', () => {
    const detail = normalizeNotification(fixture('alb-completed'), context);
    expect(detail.rollout.podTemplateHash).toBe('7b9c5d8f6');
    expect(detail.rollout.stablePodTemplateHash).toBe('6d4f8c7b9');
  });

  it('on-rollout-aborted before status.abort is written (analysis failure) still counts as aborted', () => {
    const body = fixture('alb-aborted');
    (body.rollout.status as Record<string, unknown>).abort = false;
    const detail = normalizeNotification(body, context);
    expect(detail.aborted).toBe(true);
    expect(detail.expected.canaryWeight).toBe(0);
  });

  it('accepts the body as JSON text', () => {
    const text = JSON.stringify(fixture('alb-paused'));
    expect(normalizeNotification(text, context)).toEqual(
      normalizeNotification(fixture('alb-paused'), context),
    );
  });

  describe('eventId', () => {
    it('is the same for a duplicate POST, whenever it arrives', () => {
      const first = normalizeNotification(fixture('alb-step-completed-setweight'), context);
      const again = normalizeNotification(fixture('alb-step-completed-setweight'), {
        receivedAt: new Date('2025-11-20T10:03:05.000Z'),
      });
      expect(again.eventId).toBe(first.eventId);
    });

    it('differs by trigger, step, resourceVersion, revision and rollout', () => {
      const base = {
        uid: 'u1',
        revision: 5,
        trigger: 'on-rollout-paused' as const,
        stepIndex: 1,
        resourceVersion: '9',
      };
      const ids = new Set([
        computeEventId(base),
        computeEventId({ ...base, trigger: 'on-rollout-step-completed' }),
        computeEventId({ ...base, stepIndex: 2 }),
        computeEventId({ ...base, resourceVersion: '10' }),
        computeEventId({ ...base, revision: 6 }),
        computeEventId({ ...base, uid: 'u2' }),
        computeEventId({ ...base, resourceVersion: undefined }),
      ]);
      expect(ids.size).toBe(7);
      expect(computeEventId(base)).toBe(computeEventId({ ...base }));
    });
  });

  describe('NotificationValidationError', () => {
    function rejection(body: unknown): NotificationValidationError {
      try {
        normalizeNotification(body, context);
      } catch (error) {
        if (error instanceof NotificationValidationError) return error;
        throw error;
      }
      throw new Error('expected a NotificationValidationError');
    }

    it('names the missing uid', () => {
      const error = rejection(fixture('invalid-missing-uid'));
      expect(error.name).toBe('NotificationValidationError');
      expect(error.issues).toEqual([{ path: 'rollout.metadata.uid', message: 'is required' }]);
      expect(error.message).toBe(
        'Invalid Argo Rollouts notification (on-rollout-step-completed, rollout shop/checkout): 1 problem\n' +
          '  - rollout.metadata.uid: is required',
      );
    });

    it('names the bad revision and shows what was received', () => {
      const error = rejection(fixture('invalid-bad-revision'));
      expect(error.issues).toEqual([
        {
          path: 'rollout.metadata.annotations["rollout.argoproj.io/revision"]',
          message: 'must be a decimal integer, e.g. "3"',
          received: '"v5"',
        },
      ]);
      expect(error.message).toContain(
        '  - rollout.metadata.annotations["rollout.argoproj.io/revision"]: must be a decimal integer, e.g. "3" (received "v5")',
      );
    });

    it('names every wrong type', () => {
      const error = rejection(fixture('invalid-wrong-types'));
      expect(error.issues.map((issue) => [issue.path, issue.received])).toEqual([
        ['rollout.spec.replicas', '"10"'],
        ['rollout.spec.strategy.canary.steps[2].setWeight', '"40"'],
        ['rollout.status.currentStepIndex', '"2"'],
        ['rollout.status.canary.weights.verified', '"true"'],
      ]);
      expect(error.message).toMatch(/: 4 problems\n/);
      expect(error.issues[0]?.message).toBe('Invalid input: expected number, received string');
    });

    it('names the bad deadline annotation', () => {
      const error = rejection(fixture('invalid-bad-deadline'));
      expect(error.issues).toEqual([
        {
          path: 'rollout.metadata.annotations["rollout-verifier.io/deadline-seconds"]',
          message: 'must be whole seconds between 1 and 900, e.g. "60"',
          received: '"15m"',
        },
      ]);
    });

    it('names a deadline out of range', () => {
      const body = fixture('alb-paused');
      const metadata = body.rollout.metadata as Record<string, Record<string, string>>;
      (metadata.annotations as Record<string, string>)['rollout-verifier.io/deadline-seconds'] = '1800';
      expect(rejection(body).issues).toEqual([
        {
          path: 'rollout.metadata.annotations["rollout-verifier.io/deadline-seconds"]',
          message: 'must be between 1 and 900 seconds',
          received: '1800',
        },
      ]);
    });

    it('explains an unknown trigger', () => {
      const error = rejection({ ...fixture('alb-paused'), trigger: 'on-analysis-run-failed' });
      expect(error.issues[0]?.path).toBe('trigger');
      expect(error.issues[0]?.message).toContain(
        'must be one of on-rollout-step-completed, on-rollout-updated',
      );
      expect(error.message).toContain('(on-analysis-run-failed, rollout shop/checkout)');
    });

    it('rejects text that is not JSON and bodies that are not objects', () => {
      expect(rejection('{"trigger": "on-rollout-paused",').issues[0]?.path).toBe('(body)');
      expect(rejection([]).issues).toEqual([
        { path: '(body)', message: 'Invalid input: expected object, received array', received: 'an array' },
      ]);
      expect(rejection(undefined).issues).toEqual([{ path: '(body)', message: 'is required' }]);
    });
  });
});
