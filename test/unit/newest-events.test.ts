import { describe, expect, it } from 'vitest';
import { NewestEvents } from '../../lambdas/core/newest-events.js';
import { rolloutEvent } from '../support/rollout-events.js';

const at = (revision: number, step: number, uid = 'uid-1', name = 'checkout') =>
  rolloutEvent({
    rollout: { ...rolloutEvent().rollout, uid, revision, name },
    step: { index: step, count: 4 },
  });

describe('NewestEvents', () => {
  it('treats an earlier step of the same revision as stale', () => {
    const newest = new NewestEvents();
    newest.record(at(3, 2));
    expect(newest.isStale(at(3, 1))).toBe(true);
    expect(newest.isStale(at(3, 2))).toBe(false);
    expect(newest.isStale(at(3, 3))).toBe(false);
  });

  it('treats an older revision as stale whatever its step', () => {
    const newest = new NewestEvents();
    newest.record(at(4, 0));
    expect(newest.isStale(at(3, 3))).toBe(true);
    expect(newest.isStale(at(5, 0))).toBe(false);
  });

  it('does not compare a re-created rollout (new uid) with the old one', () => {
    const newest = new NewestEvents();
    newest.record(at(9, 3, 'uid-old'));
    expect(newest.isStale(at(1, 0, 'uid-new'))).toBe(false);
  });

  it('never moves backwards when a stale event is recorded', () => {
    const newest = new NewestEvents();
    newest.record(at(3, 2));
    newest.record(at(3, 1));
    expect(newest.isStale(at(3, 1))).toBe(true);
  });

  it('accepts step 0 again after an abort: the revision may be retried', () => {
    const newest = new NewestEvents();
    newest.record(at(3, 2));
    newest.record({ ...at(3, 2), aborted: true });
    expect(newest.isStale(at(3, 0))).toBe(false);
  });

  it('forgets the least recently recorded rollout beyond its capacity', () => {
    const newest = new NewestEvents(2);
    newest.record(at(3, 2, 'a', 'one'));
    newest.record(at(3, 2, 'b', 'two'));
    newest.record(at(3, 2, 'c', 'three'));
    expect(newest.isStale(at(3, 1, 'a', 'one'))).toBe(false);
    expect(newest.isStale(at(3, 1, 'c', 'three'))).toBe(true);
  });
});
