import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ROLLOUT_EVENT_PATTERN, VERDICT_EVENT_PATTERN } from '../../contract/event-catalog.js';
import { eventSchemaDocuments } from '../../lambdas/core/contracts/json-schemas.js';
import {
  KubernetesName,
  KubernetesNamespace,
  RolloutEventDetail,
} from '../../lambdas/core/contracts/rollout-event.js';
import { rolloutEvent } from '../support/rollout-events.js';

describe('event contracts', () => {
  it('keeps docs/events in step with the zod schemas (run `npm run schemas` after a change)', async () => {
    for (const [fileName, schema] of Object.entries(eventSchemaDocuments())) {
      const committed = JSON.parse(
        await readFile(new URL(`../../docs/events/${fileName}`, import.meta.url), 'utf8'),
      );
      expect(committed, fileName).toEqual(schema);
    }
  });

  it.each(['checkout', 'checkout-v2', 'a.b-c', 'x'])('accepts the Kubernetes name %s', (name) => {
    expect(KubernetesName.safeParse(name).success).toBe(true);
  });

  it.each(['Checkout', '-checkout', 'checkout-', 'check_out', 'a/b', '', 'a'.repeat(254), '../etc'])(
    'rejects %s before it can reach a URL',
    (name) => {
      expect(KubernetesName.safeParse(name).success).toBe(false);
    },
  );

  it('rejects dotted namespaces (DNS-1123 labels)', () => {
    expect(KubernetesNamespace.safeParse('shop.prod').success).toBe(false);
    expect(KubernetesNamespace.safeParse('shop-prod').success).toBe(true);
  });

  it('fills defaults producers may omit', () => {
    const event = rolloutEvent();
    expect(event.expected.maxWeight).toBe(100);
    expect(event.expected.successors).toEqual([]);
    expect(event.aborted).toBe(false);
  });

  it('names the failing path of an invalid event', () => {
    const result = RolloutEventDetail.safeParse({ ...rolloutEvent(), expected: { canaryWeight: -1 } });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(
      expect.arrayContaining(['expected.canaryWeight', 'expected.stableWeight', 'expected.derivation']),
    );
  });

  it('exports the rule patterns for rollout events and verdicts', () => {
    expect(ROLLOUT_EVENT_PATTERN).toEqual({
      source: ['rollout-verifier.ingest'],
      'detail-type': [
        'Rollout Step Completed',
        'Rollout Updated',
        'Rollout Aborted',
        'Rollout Completed',
        'Rollout Paused',
        'Rollout Resumed',
      ],
    });
    expect(VERDICT_EVENT_PATTERN['detail-type']).toEqual([
      'Rollout Verification Succeeded',
      'Rollout Verification Failed',
      'Rollout Verification Inconclusive',
    ]);
  });
});
