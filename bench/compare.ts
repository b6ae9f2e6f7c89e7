import { readFileSync } from 'node:fs';
import { formatTable } from '../cli/table.js';

/**
 * Compares two bench results files on the keys kept stable across versions:
 *
 *   npx tsx bench/compare.ts before.json after.json
 */

const STABLE_KEYS = [
  'elbCalls.first',
  'elbCalls.steady',
  'elbCalls.steadyWith500LoadBalancers',
  'elbCalls.baselineWith500LoadBalancers',
  'verdictAfterConvergenceMs.p50',
  'verdictAfterConvergenceMs.p99',
  'handlerOverheadMs.p50',
  'handlerOverheadMs.p99',
  'bundleBytes.*',
  'coldImportMs.*',
  'burst.rollouts',
  'burst.peakDescribePerSecond',
  'burst.throttledCalls',
  'burst.notSucceeded',
  'burst.lostEvents',
] as const;

type Json = Record<string, unknown>;

function at(results: Json, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value as Json | undefined)?.[key], results);
}

function expand(results: Json[], key: string): string[] {
  if (!key.endsWith('.*')) return [key];
  const parent = key.slice(0, -2);
  const names = new Set(results.flatMap((result) => Object.keys((at(result, parent) as Json) ?? {})));
  return [...names].sort().map((name) => `${parent}.${name}`);
}

const [beforeFile, afterFile] = process.argv.slice(2);
if (!beforeFile || !afterFile) {
  process.stderr.write('usage: npx tsx bench/compare.ts <before.json> <after.json>\n');
  process.exit(64);
}
const before = JSON.parse(readFileSync(beforeFile, 'utf8')) as Json;
const after = JSON.parse(readFileSync(afterFile, 'utf8')) as Json;
const rows = STABLE_KEYS.flatMap((key) => expand([before, after], key)).map((key) => {
  const a = at(before, key);
  const b = at(after, key);
  const delta =
    typeof a === 'number' && typeof b === 'number' && a !== 0
      ? `${b - a >= 0 ? '+' : ''}${Math.round(((b - a) / a) * 1000) / 10} %`
      : '';
  return [key, String(a ?? '-'), String(b ?? '-'), delta];
});
process.stdout.write(
  `${formatTable(['KEY', String(before.date ?? beforeFile), String(after.date ?? afterFile), 'CHANGE'], rows)}\n`,
);
