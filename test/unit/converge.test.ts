import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Finding } from '../../lambdas/core/contracts/verdict-event.js';
import { converge, LookSchedule, type Step, settle } from '../../lambdas/core/converge.js';
import type { Judgement } from '../../lambdas/core/judge/index.js';

const finding = (code: Finding['code']): Finding => ({
  code,
  resource: 'r',
  expected: 1,
  observed: 0,
  message: code,
});
const failed: Judgement = {
  verdict: 'Failed',
  findings: [finding('WeightMismatch')],
  final: false,
  complete: true,
};
const succeeded: Judgement = { verdict: 'Succeeded', findings: [], final: true, complete: true };
const throttled: Judgement = {
  verdict: 'Inconclusive',
  findings: [finding('Throttled')],
  final: false,
  complete: false,
};
const denied: Judgement = {
  verdict: 'Inconclusive',
  findings: [finding('AccessDenied')],
  final: true,
  complete: false,
};

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

  /** A cheap look that saw the routes, completely, still carrying the wrong weights. */
  const glance: Step = {
    judgement: failed,
    observation: { router: 'alb', routes: [], backends: [], problems: [], routesOnly: true },
  };
  function scriptedSteps(...steps: Step[]) {
    const calledAt: number[] = [];
    const start = Date.now();
    const attempt = vi.fn(async (): Promise<Step> => {
      calledAt.push(Date.now() - start);
      return steps[Math.min(calledAt.length - 1, steps.length - 1)]!;
    });
    return { attempt, calledAt };
  }
  const gapsOf = (calledAt: number[]) => calledAt.slice(1).map((at, i) => at - calledAt[i]!);

  it('looks again soon after the steady routes-only looks, then doubles', async () => {
    const { attempt, calledAt } = scriptedSteps(glance);
    await run(
      converge(attempt, {
        deadlineMs: 30_000,
        initialDelayMs: 500,
        maxDelayMs: 4_000,
        steadyLooks: 3,
        random: () => 1,
      }),
    );
    expect(gapsOf(calledAt).slice(0, 7)).toEqual([500, 500, 500, 500, 1_000, 2_000, 4_000]);
  });

  it('backs off after full looks that still fail (target health changes slowly), whatever the steady looks', async () => {
    const { attempt, calledAt } = scriptedSteps({ judgement: failed });
    await run(
      converge(attempt, {
        deadlineMs: 30_000,
        initialDelayMs: 500,
        maxDelayMs: 4_000,
        steadyLooks: 10,
        random: () => 1,
      }),
    );
    expect(gapsOf(calledAt).slice(0, 5)).toEqual([500, 1_000, 2_000, 4_000, 4_000]);
  });

  it('draws steady waits from the upper half of the initial ceiling, later ones below it (full jitter)', async () => {
    const { attempt, calledAt } = scriptedSteps(glance);
    await run(
      converge(attempt, {
        deadlineMs: 30_000,
        initialDelayMs: 1_000,
        maxDelayMs: 4_000,
        steadyLooks: 2,
        random: () => 0.25,
      }),
    );
    expect(gapsOf(calledAt).slice(0, 4)).toEqual([625, 625, 250, 500]);
  });

  it('backs off after looks that could not see, then looks soon again once the routes are seen', async () => {
    const { attempt, calledAt } = scriptedSteps(
      glance,
      { judgement: throttled },
      { judgement: throttled },
      { judgement: throttled },
      glance,
    );
    await run(
      converge(attempt, {
        deadlineMs: 30_000,
        initialDelayMs: 500,
        maxDelayMs: 4_000,
        steadyLooks: 10,
        random: () => 1,
      }),
    );
    expect(gapsOf(calledAt).slice(0, 6)).toEqual([500, 500, 1_000, 2_000, 500, 500]);
  });

  it('tells the looks near the deadline that they are the last', async () => {
    const seen: Array<[number, boolean]> = [];
    const start = Date.now();
    const attempt = vi.fn(
      async (_signal: AbortSignal, { lastLook }: { lastLook: boolean }): Promise<Step> => {
        seen.push([Date.now() - start, lastLook]);
        return { judgement: failed };
      },
    );
    await run(
      converge(attempt, {
        deadlineMs: 10_000,
        initialDelayMs: 1_000,
        maxDelayMs: 1_000,
        lastLookWindowMs: 3_000,
        random: () => 1,
      }),
    );
    expect(seen.filter(([at]) => at < 7_000).every(([, last]) => !last)).toBe(true);
    expect(seen.filter(([at]) => at >= 7_000).every(([, last]) => last)).toBe(true);
    expect(seen.at(-1)).toEqual([9_750, true]);
  });

  it('returns the last judgement once the deadline passes, never observing past it', async () => {
    const { attempt, calledAt } = scripted(failed);
    const result = await run(converge(attempt, { deadlineMs: 10_000, random: () => 1 }));
    expect(result.judgement.verdict).toBe('Failed');
    expect(Math.max(...calledAt)).toBeLessThanOrEqual(10_000 - 250);
    expect(result.durationMs).toBeLessThanOrEqual(10_000);
    expect(result.attempts).toBe(calledAt.length);
  });

  it('starts an attempt only with room to finish it: twice the longest so far before the deadline', async () => {
    // Each observation takes 800 ms: an attempt started with less than 1.6 s left would be cut short
    // by the verifier's own deadline and turn a seen mismatch into Inconclusive.
    const calledAt: number[] = [];
    const start = Date.now();
    const slow = async (): Promise<Step> => {
      calledAt.push(Date.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 800));
      return { judgement: failed };
    };
    const result = await run(
      converge(slow, { deadlineMs: 5_000, initialDelayMs: 500, maxDelayMs: 500, random: () => 1 }),
    );
    expect(result.judgement).toMatchObject({ verdict: 'Failed', complete: true });
    expect(result.judgement.findings.every((finding) => finding.code === 'WeightMismatch')).toBe(true);
    for (const at of calledAt.slice(1)) expect(5_000 - at).toBeGreaterThanOrEqual(1_600);
    expect(calledAt.length).toBeGreaterThanOrEqual(2);
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

  /** Attempt 1 answers `first`; every later attempt hangs until the deadline aborts it. */
  function hangsAfter(first: Judgement, ...then: Judgement[]) {
    let calls = 0;
    return vi.fn(
      (signal: AbortSignal) =>
        new Promise<Step>((resolve, reject) => {
          const scripted = [first, ...then][calls++];
          if (scripted) return resolve({ judgement: scripted });
          signal.addEventListener('abort', () =>
            reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
          );
        }),
    );
  }

  it('a mismatch followed by an observation the deadline cuts short is Inconclusive, the mismatch kept as earlier evidence', async () => {
    const result = await run(converge(hangsAfter(failed), { deadlineMs: 3_000, random: () => 1 }));
    expect(result.judgement).toMatchObject({ verdict: 'Inconclusive', complete: false });
    expect(result.judgement.findings).toEqual([
      expect.objectContaining({ code: 'ObservationError', observed: 'deadline' }),
      { ...finding('WeightMismatch'), earlierObservation: { attempt: 1, observedAt: expect.any(String) } },
    ]);
    expect(result.attempts).toBe(2);
  });

  it('throttling met after the mismatch is named even when the deadline cut the last call short', async () => {
    const result = await run(converge(hangsAfter(failed, throttled), { deadlineMs: 5_000, random: () => 1 }));
    expect(result.judgement.verdict).toBe('Inconclusive');
    expect(
      result.judgement.findings.map((item) => [item.code, item.earlierObservation?.attempt ?? 'last']),
    ).toEqual([
      ['ObservationError', 'last'],
      ['Throttled', 2],
      ['WeightMismatch', 1],
    ]);
  });

  it('names each gap met since the mismatch once, from its most recent attempt', async () => {
    const malformed: Judgement = { ...throttled, findings: [finding('MalformedResponse')] };
    const result = await run(
      converge(hangsAfter(failed, throttled, malformed, throttled), { deadlineMs: 10_000, random: () => 1 }),
    );
    expect(
      result.judgement.findings.map((item) => [item.code, item.earlierObservation?.attempt ?? 'last']),
    ).toEqual([
      ['ObservationError', 'last'],
      ['Throttled', 4],
      ['MalformedResponse', 3],
      ['WeightMismatch', 1],
    ]);
  });

  it('a mismatch followed by throttling until the deadline is Inconclusive Throttled', async () => {
    const { attempt } = scripted(failed, throttled);
    const result = await run(converge(attempt, { deadlineMs: 5_000, random: () => 1 }));
    expect(result.judgement.verdict).toBe('Inconclusive');
    expect(result.judgement.findings.map((item) => [item.code, item.earlierObservation?.attempt])).toEqual([
      ['Throttled', undefined],
      ['WeightMismatch', 1],
    ]);
  });

  it('the most recent complete observation decides: throttling, then a mismatch, ends Failed', async () => {
    const { attempt } = scripted(throttled, failed);
    const result = await run(converge(attempt, { deadlineMs: 5_000, random: () => 1 }));
    expect(result.judgement).toBe(failed);
  });

  it('an observation cut short before any other is Inconclusive, never a crash', async () => {
    const attempt = vi.fn(
      (signal: AbortSignal) =>
        new Promise<Step>((_, reject) =>
          signal.addEventListener('abort', () =>
            reject(Object.assign(new Error('x'), { name: 'AbortError' })),
          ),
        ),
    );
    const result = await run(converge(attempt, { deadlineMs: 1_000 }));
    expect(result.judgement.findings).toMatchObject([{ code: 'ObservationError', observed: 'deadline' }]);
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

describe('settle: which observation the evidence comes from', () => {
  const route = { resource: 'rule', description: 'rule', destinations: [] };
  const observation = (routes: number) => ({
    router: 'alb',
    routes: Array.from({ length: routes }, () => route),
    backends: [],
    problems: [],
  });
  const record = (attempt: number, judgement: Judgement, routes: number) => ({
    attempt,
    observedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, attempt)).toISOString(),
    judgement,
    observation: observation(routes),
  });

  it('the last observation that saw anything, when the last one saw nothing', () => {
    const settled = settle([record(1, failed, 2), record(2, throttled, 0)]);
    expect(settled.evidence?.attempt).toBe(1);
  });

  it('a partial last observation is fresher than a complete earlier one', () => {
    const settled = settle([record(1, failed, 2), record(2, throttled, 1)]);
    expect(settled.evidence?.attempt).toBe(2);
  });

  it('a complete last observation is the evidence, even when it saw no route', () => {
    const settled = settle([record(1, failed, 2), record(2, failed, 0)]);
    expect(settled.evidence?.attempt).toBe(2);
  });
});

describe('LookSchedule: a verification that goes on in another invocation', () => {
  const observation = (weight: number) => ({
    router: 'alb',
    routes: [
      {
        resource: 'rule',
        description: 'r',
        destinations: [{ resource: 'tg', role: 'canary' as const, weight }],
      },
    ],
    backends: [],
    problems: [],
  });
  const script: Step[] = [
    { judgement: failed, observation: { ...observation(0), routesOnly: true } },
    { judgement: throttled },
    { judgement: failed, observation: { ...observation(5), routesOnly: true } },
    { judgement: throttled },
    { judgement: throttled },
    { judgement: succeeded, observation: observation(20) },
  ];
  const options = () => {
    let seed = 1;
    // Deterministic jitter: both schedules draw the same sequence.
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    return { deadlineMs: 60_000, initialDelayMs: 1_000, maxDelayMs: 5_000, steadyLooks: 3, random };
  };

  it('decides exactly as one that never left, resumed from its JSON after every look', () => {
    const t0 = 1_000_000;
    const staying = LookSchedule.start(options(), t0);
    const resumedOptions = options();
    let state = LookSchedule.start(resumedOptions, t0).state;
    script.forEach((step, index) => {
      const at = t0 + index * 2_000;
      const stayed = staying.record(step, at, false, at + 100);
      const resumed = LookSchedule.resume(resumedOptions, JSON.parse(JSON.stringify(state)));
      expect(resumed.record(step, at, false, at + 100)).toEqual(stayed);
      state = resumed.state;
    });
    const end = t0 + script.length * 2_000;
    const resumedResult = LookSchedule.resume(resumedOptions, state).result(end);
    expect(resumedResult).toEqual(staying.result(end));
    expect(resumedResult).toMatchObject({ judgement: { verdict: 'Succeeded' }, attempts: script.length });
  });

  it('keeps only what settle can still use: the last complete look, the ones since and the evidence', () => {
    const schedule = LookSchedule.start(options(), 0);
    for (const [index, step] of script.slice(0, 5).entries()) {
      schedule.record(step, index * 1_000, false, index * 1_000 + 50);
    }
    const { records } = schedule.state;
    expect(records.map((record) => record.attempt)).toEqual([3, 4, 5]);
    // Only the evidence (the last complete look) still carries its observation.
    expect(records.map((record) => record.observation !== undefined)).toEqual([true, false, false]);
    expect(settle(records)).toMatchObject({
      judgement: { verdict: 'Inconclusive' },
      evidence: { attempt: 3 },
    });
  });

  it('is done once the deadline leaves no room for another look', () => {
    const schedule = LookSchedule.start({ deadlineMs: 1_000 }, 0);
    expect(schedule.record({ judgement: failed }, 0, false, 900)).toEqual({ done: true });
  });
});
