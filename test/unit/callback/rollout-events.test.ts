import { describe, expect, it } from 'vitest';
import { MAX_FINDING_EVENTS, verdictEvents } from '../../../lambdas/core/callback/rollout-events.js';
import { verdictDetail, WEIGHT_MISMATCH } from '../../support/verdicts.js';

const options = { now: new Date('2026-11-23T09:00:04.123Z'), instance: 'rollout-verifier-callback' };

describe('verdictEvents', () => {
  it('one Warning per finding, reason = the finding code, on the Rollout with its uid', () => {
    const [event] = verdictEvents(
      verdictDetail({ verdict: 'Failed' }),
      { action: 'none', reason: 'abort on failure is off' },
      options,
    );
    expect(event).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: expect.stringMatching(/^checkout\.[0-9a-f]{16}\.0$/),
        namespace: 'shop',
        labels: { 'app.kubernetes.io/managed-by': 'rollout-verifier' },
        annotations: {
          'rollout-verifier.io/verdict-id': verdictDetail().verdictId,
          'rollout-verifier.io/event-id': 'evt-checkout-r3-s1',
        },
      },
      involvedObject: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        name: 'checkout',
        namespace: 'shop',
        uid: '6a1f3a0e-7c55-4f7e-9d7c-1b2f3c4d5e6f',
      },
      reason: 'WeightMismatch',
      type: 'Warning',
      message: `step 0: ${WEIGHT_MISMATCH.message} (expected canary 20 / stable 80, observed canary 0 / stable 100; ${WEIGHT_MISMATCH.resource})`,
      source: { component: 'rollout-verifier' },
      reportingComponent: 'rollout-verifier',
      reportingInstance: 'rollout-verifier-callback',
      firstTimestamp: '2026-11-23T09:00:04Z',
      lastTimestamp: '2026-11-23T09:00:04Z',
      count: 1,
    });
  });

  it('marks a finding kept from an earlier observation as such', () => {
    const throttled = { ...WEIGHT_MISMATCH, code: 'Throttled' as const, message: 'throttled' };
    const earlier = {
      ...WEIGHT_MISMATCH,
      earlierObservation: { attempt: 1, observedAt: '2026-11-23T09:00:01.000Z' },
    };
    const events = verdictEvents(
      verdictDetail({ verdict: 'Inconclusive', findings: [throttled, earlier] }),
      { action: 'none', reason: 'an Inconclusive verdict aborts nothing' },
      options,
    );
    expect(events.map((event) => event.message)).toEqual([
      expect.stringMatching(/^step 0: throttled /),
      expect.stringMatching(
        /^step 0: \[seen in observation 1 at 2026-11-23T09:00:01.000Z, not confirmed since: later observations could not complete\] listener-rule/,
      ),
    ]);
  });

  it('caps the per-finding Events and summarises the rest; adds the action taken', () => {
    const findings = Array.from({ length: MAX_FINDING_EVENTS + 3 }, (_, index) => ({
      ...WEIGHT_MISMATCH,
      resource: `rule-${index}`,
    }));
    const events = verdictEvents(
      verdictDetail({ verdict: 'Failed', findings }),
      { action: 'abort', statusPatch: {}, preconditions: { uid: 'u' }, reason: 'step 0 failed' },
      options,
    );
    expect(events.map((event) => event.reason)).toEqual([
      ...Array(MAX_FINDING_EVENTS).fill('WeightMismatch'),
      'VerificationFailed',
      'AbortedByVerifier',
    ]);
    expect(events.at(-2)?.message).toBe(
      'step 0: 3 more finding(s): WeightMismatch rule-5; WeightMismatch rule-6; WeightMismatch rule-7',
    );
    expect(new Set(events.map((event) => event.metadata.name)).size).toBe(events.length);
  });

  it('keeps names within 253 characters and messages within 1024', () => {
    const long = 'a'.repeat(253);
    const [event] = verdictEvents(
      verdictDetail({
        verdict: 'Failed',
        rollout: { ...verdictDetail().rollout, name: long },
        findings: [{ ...WEIGHT_MISMATCH, message: 'x'.repeat(5000) }],
      }),
      { action: 'none', reason: 'off' },
      options,
    );
    expect(event?.metadata.name.length).toBeLessThanOrEqual(253);
    expect(event?.message.length).toBeLessThanOrEqual(1024);
  });

  it('a Succeeded verdict is one Normal event saying what was verified', () => {
    const events = verdictEvents(
      verdictDetail(),
      { action: 'none', reason: 'promote on success is off' },
      options,
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'Normal',
      reason: 'VerificationSucceeded',
      message: 'step 0: alb traffic verified at canary 20 / stable 80 after 3 observation(s) in 2.4 s',
    });
  });
});
