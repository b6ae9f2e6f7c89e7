import { describe, expect, it } from 'vitest';
import { formatIssuePath } from '../../../lambdas/core/normalize/normalize.js';
import { NotificationBody } from '../../../lambdas/core/normalize/notification-body.js';
import { fixture } from '../normalize/rollout-builder.js';

type Json = Record<string, unknown>;
const canaryOf = (body: unknown): Json =>
  ((((body as Json).rollout as Json).spec as Json).strategy as Json).canary as Json;

function failingPaths(body: unknown): string[] {
  const result = NotificationBody.safeParse(body);
  return result.success ? [] : result.error.issues.map((issue) => formatIssuePath(issue.path));
}

describe('Istio normalization against the controller’s rules', () => {
  it('subset-level splitting (a DestinationRule) needs no Services', () => {
    const body = fixture('istio-paused');
    delete canaryOf(body).canaryService;
    delete canaryOf(body).stableService;
    expect(failingPaths(body)).toEqual([]);
  });

  it('host-level splitting (no DestinationRule) needs both Services, as Argo validates', () => {
    const body = fixture('istio-paused');
    const canary = canaryOf(body);
    delete canary.canaryService;
    delete ((canary.trafficRouting as Json).istio as Json).destinationRule;
    expect(failingPaths(body)).toEqual(['rollout.spec.strategy.canary.canaryService']);
  });
});
