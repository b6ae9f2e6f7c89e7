import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Finding } from '../../lambdas/core/contracts/verdict-event.js';
import { converge, type Step } from '../../lambdas/core/converge.js';
import type { Judgement } from '../../lambdas/core/judge/index.js';

const finding = (code: Finding['code']): Finding => ({
  code,
  resource: 'r',
  expected: 1,
  observed: 0,
  message: code,
});
const failed: Judgement = { verdict: 'Failed', findings: [finding('WeightMismatch')], final: false };
const succeeded: Judgement = { verdict: 'Succeeded', findings: [], final: true };
const throttled: Judgement = { verdict: 'Inconclusive', findings: [finding('Throttled')], final: false };
const denied: Judgement = { verdict: 'Inconclusive', findings: [finding('AccessDenied')], final: true };

/** An attempt function that answers from a script and records when it was called. */
function scripted(...judgements: Judgement[]) {
  const calledAt: number[] = [];
  const start = Date.now();
  const attempt = vi.fn(async (): Promise<Step> => {
    calledAt.push(Date.now() - start);
    return { judgement: judgements[Math.min(calledAt.length - 1, judgements.length - 1)]! };
  });
  return { attempt, calledAt };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function run<T>(promise: Promise<T>): Promise<T> {
  await vi.runAllTimersAsync();
  return promise;
}

describe('converge', () => {
  it('stops at the first success', async () => {
    const { attempt } = scripted(failed, failed, succeeded);
    const result = await run(converge(attempt, { deadlineMs: 30_000, random: () => 1 }));
    expect(result.judgement.verdict).toBe('Succeeded');
    expect(result.attempts).toBe(3);
  });

  it('backs off exponentially up to the cap (jitter at its ceiling)', async () => {
    const { attempt, calledAt } = scripted(failed);
    await run(
      converge(attempt, { deadlineMs: 20_000, initialDelayMs: 1_000, maxDelayMs: 5_000, random: () => 1 }),
    );
    const gaps = calledAt.slice(1).map((at, i) => at - calledAt[i]!);
    expect(gaps.slice(0, 5)).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('draws each delay below its ceiling (full jitter)', async () => {
    const { attempt, calledAt } = scripted(failed);
    await run(
      converge(attempt, { deadlineMs: 10_000, initialDelayMs: 1_000, maxDelayMs: 5_000, random: () => 0.5 }),
    );
    const gaps = calledAt.slice(1).map((at, i) => at - calledAt[i]!);
    expect(gaps.slice(0, 4)).toEqual([500, 1_000, 2_000, 2_500]);
  });

  it('returns the last judgement once the deadline passes, never observing past it', async () => {
    const { attempt, calledAt } = scripted(failed);
    const result = await run(converge(attempt, { deadlineMs: 10_000, random: () => 1 }));
    expect(result.judgement.verdict).toBe('Failed');
    expect(Math.max(...calledAt)).toBeLessThanOrEqual(10_000 - 250);
    expect(result.durationMs).toBeLessThanOrEqual(10_000);
    expect(result.attempts).toBe(calledAt.length);
  });

  it('keeps throttling Inconclusive through the deadline', async () => {
    const { attempt } = scripted(throttled);
    const result = await run(converge(attempt, { deadlineMs: 5_000, random: () => 1 }));
    expect(result.judgement.verdict).toBe('Inconclusive');
    expect(result.judgement.findings[0]?.code).toBe('Throttled');
  });

  it('does not wait for a final judgement such as AccessDenied', async () => {
    const { attempt } = scripted(denied);
    const result = await run(converge(attempt, { deadlineMs: 30_000 }));
    expect(result.attempts).toBe(1);
    expect(result.durationMs).toBe(0);
  });

  it('turns an observation that throws into an Inconclusive step', async () => {
    const attempt = vi.fn(async (): Promise<Step> => {
      throw new TypeError('boom');
    });
    const result = await run(converge(attempt, { deadlineMs: 2_000, random: () => 1 }));
    expect(result.judgement.verdict).toBe('Inconclusive');
    expect(result.judgement.findings[0]).toMatchObject({ code: 'ObservationError', observed: 'TypeError' });
  });

  it('aborts an observation still in flight at the deadline and keeps the previous judgement', async () => {
    let calls = 0;
    const attempt = vi.fn(
      (signal: AbortSignal) =>
        new Promise<Step>((resolve, reject) => {
          calls++;
          if (calls === 1) return resolve({ judgement: failed });
          signal.addEventListener('abort', () =>
            reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
          );
        }),
    );
    const result = await run(converge(attempt, { deadlineMs: 3_000, random: () => 1 }));
    expect(result.judgement).toBe(failed);
    expect(result.attempts).toBe(1);
  });

  it('reports progress after every attempt', async () => {
    const { attempt } = scripted(failed, succeeded);
    const progress = vi.fn();
    await run(converge(attempt, { deadlineMs: 30_000, random: () => 1, onAttempt: progress }));
    expect(progress.mock.calls.map(([p]) => [p.attempt, p.judgement.verdict])).toEqual([
      [1, 'Failed'],
      [2, 'Succeeded'],
    ]);
  });
});
