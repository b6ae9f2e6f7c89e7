import { describe, expect, it } from 'vitest';
import { lookWindow, readableAt } from '../../../lambdas/core/traffic/look-window.js';
import { movedOnAt } from '../../../lambdas/core/traffic/moved-on.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-23T09:00:00.000Z');

describe('movedOnAt', () => {
  it('nothing moved: only the look’s own verdict', () => {
    expect(movedOnAt(new Map([[T0, 1]]), T0)).toBeUndefined();
  });

  it('the first later minute with a verdict', () => {
    expect(
      movedOnAt(
        new Map([
          [T0, 1],
          [T0 + 4 * MINUTE, 1],
          [T0 + 2 * MINUTE, 2],
        ]),
        T0,
      ),
    ).toBe(T0 + 2 * MINUTE);
  });

  it('another verdict in the look’s own minute cannot be placed: that minute', () => {
    expect(movedOnAt(new Map([[T0, 2]]), T0)).toBe(T0);
  });

  it('ignores minutes without verdicts and earlier minutes', () => {
    expect(
      movedOnAt(
        new Map([
          [T0 - MINUTE, 3],
          [T0, 1],
          [T0 + MINUTE, 0],
        ]),
        T0,
      ),
    ).toBeUndefined();
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
