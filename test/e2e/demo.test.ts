import { describe, expect, it } from 'vitest';
import { renderDemo, runDemo } from '../../demo/run.js';

describe('npm run demo', () => {
  it('reaches the expected verdict in every scenario, through the real ingest and verify handlers', async () => {
    const result = await runDemo({ deadlineSeconds: 2 });
    expect(result.scenarios.map(({ name, got, ok, problem }) => ({ name, got, ok, problem }))).toEqual([
      {
        name: 'healthy canary 20 → 50 → 100',
        got: ['Succeeded', 'Succeeded', 'Succeeded'],
        ok: true,
        problem: undefined,
      },
      { name: 'weights never applied (controller throttled)', got: ['Failed'], ok: true, problem: undefined },
      { name: 'unhealthy canary targets', got: ['Failed'], ok: true, problem: undefined },
      {
        name: 'AccessDenied → Inconclusive, never Failed',
        got: ['Inconclusive'],
        ok: true,
        problem: undefined,
      },
      { name: "a stranger's POST → 401, nothing published", got: [], ok: true, problem: undefined },
      { name: 'blue-green switch', got: ['Succeeded'], ok: true, problem: undefined },
    ]);
    expect(result.ok).toBe(true);
    expect(renderDemo(result)).toContain('6 of 6 scenarios reached the expected verdicts.');
  });
});
