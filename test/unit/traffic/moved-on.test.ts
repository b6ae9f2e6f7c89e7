import { describe, expect, it } from 'vitest';
import { lookWindow, readableAt } from '../../../lambdas/core/traffic/look-window.js';
import { movedOnAt, rolloutProgress } from '../../../lambdas/core/traffic/moved-on.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-23T09:00:00.000Z');

describe('movedOnAt', () => {
  // revision 3, step 1 (the pause behind setWeight 20)
  const own = 300_001;

  it('nothing moved: verdicts about the look’s own state or earlier ones, however they interleave', () => {
    expect(
      movedOnAt(
        new Map([
          [T0, own],
          [T0 + MINUTE, own - 1],
        ]),
        T0,
        own,
      ),
    ).toBeUndefined();
  });

  it('the first minute, from the look’s own on, in which a later state was verified', () => {
    expect(
      movedOnAt(
        new Map([
          [T0, own],
          [T0 + 4 * MINUTE, 399_999],
          [T0 + 2 * MINUTE, own + 1],
        ]),
        T0,
        own,
      ),
    ).toBe(T0 + 2 * MINUTE);
  });

  it('a later state in the look’s own minute cannot be placed: that minute', () => {
    expect(movedOnAt(new Map([[T0, 400_000]]), T0, own)).toBe(T0);
  });

  it('ignores earlier minutes', () => {
    expect(
      movedOnAt(
        new Map([
          [T0 - MINUTE, 400_000],
          [T0, own],
        ]),
        T0,
        own,
      ),
    ).toBeUndefined();
  });
});

describe('rolloutProgress', () => {
  const verdict = (overrides: Record<string, unknown>) =>
    ({ rollout: { revision: 3 }, step: { index: 1 }, trigger: 'on-rollout-paused', ...overrides }) as never;

  it('grows with the step, an abort, and a new revision; a moved-on verdict counts where it moved on to', () => {
    const paused = rolloutProgress(verdict({}));
    expect(
      rolloutProgress(verdict({ step: { index: 0 }, trigger: 'on-rollout-step-completed' })),
    ).toBeLessThan(paused);
    expect(rolloutProgress(verdict({ step: { index: 2 } }))).toBeGreaterThan(paused);
    expect(rolloutProgress(verdict({ trigger: 'on-rollout-aborted' }))).toBeGreaterThan(
      rolloutProgress(verdict({ step: { index: 4 } })),
    );
    expect(rolloutProgress(verdict({ rollout: { revision: 4 }, step: { index: 0 } }))).toBeGreaterThan(
      rolloutProgress(verdict({ trigger: 'on-rollout-aborted' })),
    );
    expect(rolloutProgress(verdict({ movedOn: { step: { index: 3 } } }))).toBe(
      rolloutProgress(verdict({ step: { index: 3 } })),
    );
  });
});

describe('lookWindow', () => {
  it('reads only whole minutes inside the window', () => {
    const window = lookWindow(T0 + 3_000, T0 + 5 * MINUTE + 3_000);
    expect(window).toEqual({ start: T0 + MINUTE, end: T0 + 5 * MINUTE });
    expect(readableAt(window, 180)).toBe(T0 + 8 * MINUTE);
  });

  it('is empty when no whole minute fits', () => {
    const window = lookWindow(T0 + 3_000, T0 + 50_000);
    expect(window.end).toBe(window.start);
  });
});
