import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatIssuePath } from '../../../lambdas/core/normalize/normalize.js';
import { NotificationBody } from '../../../lambdas/core/normalize/notification-body.js';
import { fixture } from './rollout-builder.js';

const FIXTURES = readdirSync(new URL('../../fixtures/notifications/', import.meta.url))
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.replace(/\.json$/, ''));
const VALID = FIXTURES.filter((name) => !name.startsWith('invalid-'));

/** Every failing path of a body, formatted the way NotificationValidationError reports them. */
function failingPaths(body: unknown): string[] {
  const result = NotificationBody.safeParse(body);
  if (result.success) return [];
  return result.error.issues.map((issue) => formatIssuePath(issue.path));
}

type Body = ReturnType<typeof fixture>;
type Json = Record<string, unknown>;
const at = (value: unknown, ...keys: string[]): Json =>
  keys.reduce<Json>((node, key) => node[key] as Json, value as Json);

describe('NotificationBody', () => {
  it('has the valid fixtures the brief lists', () => {
    expect(VALID.length).toBeGreaterThanOrEqual(15);
  });

  it.each(VALID)('accepts %s', (name) => {
    expect(failingPaths(fixture(name))).toEqual([]);
  });

  it('keeps fields it does not describe (loose)', () => {
    const parsed = NotificationBody.parse(fixture('alb-step-completed-setweight'));
    const rollout = parsed.rollout as Json;
    expect(at(rollout, 'spec', 'template', 'spec')).toHaveProperty('containers');
    expect(at(rollout, 'status')).toHaveProperty('currentStepHash', '5f8d9c6b47');
    expect(at(rollout, 'metadata', 'labels')).toEqual({
      'app.kubernetes.io/name': 'checkout',
      'app.kubernetes.io/part-of': 'shop',
    });
  });

  it('parses the revision and the deadline annotations to numbers', () => {
    const parsed = NotificationBody.parse(fixture('alb-status-arns'));
    expect(parsed.rollout.metadata.annotations['rollout.argoproj.io/revision']).toBe(5);
    expect(parsed.rollout.metadata.annotations['rollout-verifier.io/deadline-seconds']).toBe(90);
  });

  it('keeps observedGeneration a string, and tolerates a number', () => {
    expect(NotificationBody.parse(fixture('alb-paused')).rollout.status.observedGeneration).toBe('12');
    const body: Body = fixture('alb-paused');
    at(body.rollout, 'status').observedGeneration = 12;
    expect(NotificationBody.parse(body).rollout.status.observedGeneration).toBe('12');
  });

  it('accepts null for optional fields and a missing status', () => {
    const body: Body = fixture('alb-paused');
    Object.assign(at(body.rollout, 'status'), { currentStepIndex: null, alb: null, canary: null });
    expect(failingPaths(body)).toEqual([]);
    const noStatus: Body = fixture('alb-paused');
    delete noStatus.rollout.status;
    expect(failingPaths(noStatus)).toEqual([]);
  });

  describe('rejects with the failing path', () => {
    it('missing uid', () => {
      expect(failingPaths(fixture('invalid-missing-uid'))).toEqual(['rollout.metadata.uid']);
    });

    it('a revision annotation that is not an integer', () => {
      expect(failingPaths(fixture('invalid-bad-revision'))).toEqual([
        'rollout.metadata.annotations["rollout.argoproj.io/revision"]',
      ]);
    });

    it('wrong types, every one of them', () => {
      expect(failingPaths(fixture('invalid-wrong-types'))).toEqual([
        'rollout.spec.replicas',
        'rollout.spec.strategy.canary.steps[2].setWeight',
        'rollout.status.currentStepIndex',
        'rollout.status.canary.weights.verified',
      ]);
    });

    it('a deadline annotation that is not whole seconds', () => {
      expect(failingPaths(fixture('invalid-bad-deadline'))).toEqual([
        'rollout.metadata.annotations["rollout-verifier.io/deadline-seconds"]',
      ]);
    });

    it.each(['0', '901', '-5', '30.5', ''])('a deadline of "%s"', (value) => {
      const body: Body = fixture('alb-paused');
      at(body.rollout, 'metadata', 'annotations')['rollout-verifier.io/deadline-seconds'] = value;
      expect(failingPaths(body)).toEqual([
        'rollout.metadata.annotations["rollout-verifier.io/deadline-seconds"]',
      ]);
    });

    it('missing annotations: reported at the revision annotation', () => {
      const body: Body = fixture('alb-paused');
      delete at(body.rollout, 'metadata').annotations;
      expect(failingPaths(body)).toEqual(['rollout.metadata.annotations["rollout.argoproj.io/revision"]']);
    });

    it('an unknown or missing trigger', () => {
      expect(failingPaths({ ...fixture('alb-paused'), trigger: 'on-analysis-run-failed' })).toEqual([
        'trigger',
      ]);
      const body: Json = fixture('alb-paused');
      delete body.trigger;
      expect(failingPaths(body)).toEqual(['trigger']);
    });

    it('missing name and namespace, invalid names', () => {
      const body: Body = fixture('alb-paused');
      const metadata = at(body.rollout, 'metadata');
      delete metadata.name;
      metadata.namespace = 'Shop_Prod';
      expect(failingPaths(body)).toEqual(['rollout.metadata.name', 'rollout.metadata.namespace']);
    });

    it('no strategy, or both strategies', () => {
      const none: Body = fixture('alb-paused');
      at(none.rollout, 'spec').strategy = {};
      expect(failingPaths(none)).toEqual(['rollout.spec.strategy']);
      const both: Body = fixture('alb-paused');
      at(both.rollout, 'spec', 'strategy').blueGreen = { activeService: 'checkout-active' };
      expect(failingPaths(both)).toEqual(['rollout.spec.strategy']);
    });

    it('ALB routing without services, ingress or port', () => {
      const body: Body = fixture('alb-paused');
      const canary = at(body.rollout, 'spec', 'strategy', 'canary');
      delete canary.canaryService;
      delete canary.stableService;
      canary.trafficRouting = { alb: { rootService: 'checkout-root' } };
      expect(failingPaths(body)).toEqual(['rollout.spec.strategy.canary.trafficRouting.alb.servicePort']);
      canary.trafficRouting = { alb: { servicePort: 80 } };
      expect(failingPaths(body)).toEqual([
        'rollout.spec.strategy.canary.trafficRouting.alb.ingress',
        'rollout.spec.strategy.canary.canaryService',
        'rollout.spec.strategy.canary.stableService',
      ]);
    });

    it('a setWeight above maxTrafficWeight, a maxTrafficWeight outside int32', () => {
      const body: Body = fixture('alb-max-traffic-weight-1000');
      const canary = at(body.rollout, 'spec', 'strategy', 'canary');
      (canary.steps as Json[])[4] = { setWeight: 1200 };
      expect(failingPaths(body)).toEqual(['rollout.spec.strategy.canary.steps[4].setWeight']);
      // Argo accepts any int32 (validation.go bounds setWeight by it): so does the verifier.
      at(canary, 'trafficRouting').maxTrafficWeight = 10000;
      (canary.steps as Json[])[4] = { setWeight: 2500 };
      expect(failingPaths(body)).toEqual([]);
      at(canary, 'trafficRouting').maxTrafficWeight = 2 ** 31;
      expect(failingPaths(body)).toEqual(['rollout.spec.strategy.canary.trafficRouting.maxTrafficWeight']);
    });

    it('an Istio VirtualService reference that is not <name>[.<namespace>]', () => {
      const body: Body = fixture('istio-paused');
      at(body.rollout, 'spec', 'strategy', 'canary', 'trafficRouting', 'istio').virtualServices = [
        { name: 'reviews.Bookinfo' },
      ];
      expect(failingPaths(body)).toEqual([
        'rollout.spec.strategy.canary.trafficRouting.istio.virtualServices[0].name',
      ]);
    });

    it('a body that is not an object', () => {
      expect(failingPaths('{"trigger":')).toEqual(['(body)']);
      expect(failingPaths(null)).toEqual(['(body)']);
    });
  });
});

describe('formatIssuePath', () => {
  it('uses dots for identifiers, brackets for indexes and other keys', () => {
    expect(formatIssuePath(['rollout', 'spec', 'strategy', 'canary', 'steps', 3, 'setWeight'])).toBe(
      'rollout.spec.strategy.canary.steps[3].setWeight',
    );
    expect(formatIssuePath(['rollout', 'metadata', 'annotations', 'rollout.argoproj.io/revision'])).toBe(
      'rollout.metadata.annotations["rollout.argoproj.io/revision"]',
    );
    expect(formatIssuePath([])).toBe('(body)');
  });
});
