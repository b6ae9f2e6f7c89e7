import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotificationValidationError, normalizeNotification } from '../../../lambdas/core/normalize/index.js';
import {
  findJsonBoundsViolation,
  JSON_BOUNDS,
  type JsonBounds,
  MAX_KEY_IN_PATH,
} from '../../../lambdas/core/normalize/json-bounds.js';
import { fixture } from '../ingest/support.js';

/**
 * lambdas/core/normalize/json-bounds.ts: every bound at its exact limit (the limit passes, one
 * more is refused, naming the path), for JSON text and for parsed values alike, and bodies far
 * beyond any stack (100,000 levels) answered, not crashed on.
 */

const SMALL: JsonBounds = { maxDepth: 4, maxEntries: 3, maxValues: 12 };

/** `levels` arrays, one inside the other, as text: no recursion, no parse. */
const nestedArraysText = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

/** The same as a value, built with a loop. */
function nestedArraysValue(levels: number): unknown[] {
  const root: unknown[] = [];
  let inner = root;
  for (let level = 1; level < levels; level++) {
    const next: unknown[] = [];
    inner.push(next);
    inner = next;
  }
  return root;
}

/** Both forms of one body: its JSON text and the parsed value. */
const bothForms = (value: unknown) => [JSON.stringify(value), value] as const;

describe('depth', () => {
  it.each([1, 2, 4])('%i levels pass a limit of 4', (levels) => {
    for (const body of [nestedArraysText(levels), nestedArraysValue(levels)]) {
      expect(findJsonBoundsViolation(body, SMALL)).toBeUndefined();
    }
  });

  it('one level more is refused at the container that crosses it', () => {
    for (const body of bothForms({ a: [{ b: { c: [] } }] })) {
      expect(findJsonBoundsViolation(body, SMALL)).toEqual({
        path: ['a', 0, 'b', 'c'],
        message: 'nests deeper than 4 levels',
      });
    }
  });

  it('the default limit exactly: 64 levels pass, 65 are refused', () => {
    for (const [levels, refused] of [
      [JSON_BOUNDS.maxDepth, false],
      [JSON_BOUNDS.maxDepth + 1, true],
    ] as const) {
      for (const body of [nestedArraysText(levels), nestedArraysValue(levels)]) {
        const violation = findJsonBoundsViolation(body);
        expect(violation !== undefined, `${levels} levels`).toBe(refused);
        if (violation) expect(violation.path).toEqual(Array(JSON_BOUNDS.maxDepth).fill(0));
      }
    }
  });

  it('100,000 levels, as text and as a value, are refused without recursing', () => {
    for (const body of [nestedArraysText(100_000), nestedArraysValue(100_000)]) {
      expect(findJsonBoundsViolation(body)?.message).toBe('nests deeper than 64 levels');
    }
  });
});

describe('entries and values', () => {
  it('3 entries pass a limit of 3; a fourth key or element is refused naming its container', () => {
    for (const body of bothForms({ list: [1, 2, 3], map: { a: 1, b: 2, c: 3 } })) {
      expect(findJsonBoundsViolation(body, { ...SMALL, maxValues: 100 })).toBeUndefined();
    }
    for (const body of bothForms({ list: [1, 2, 3, 4] })) {
      expect(findJsonBoundsViolation(body, SMALL)).toEqual({
        path: ['list'],
        message: 'has more than 3 entries',
      });
    }
    for (const body of bothForms({ x: { a: 1, b: 2, c: 3, d: 4 } })) {
      expect(findJsonBoundsViolation(body, SMALL)).toEqual({
        path: ['x'],
        message: 'has more than 3 entries',
      });
    }
  });

  it('12 values pass a limit of 12 (containers count); the 13th is refused where it starts', () => {
    const bounds = { ...SMALL, maxEntries: 10 };
    // The object, a's array and its 3 numbers, b's array and its 3 numbers, "x", null, true: 12.
    const atLimit = { a: [1, 2, 3], b: [4, 5, 6], c: 'x', d: null, e: true };
    const over = { ...atLimit, f: false };
    for (const body of bothForms(atLimit)) expect(findJsonBoundsViolation(body, bounds)).toBeUndefined();
    for (const body of bothForms(over)) {
      expect(findJsonBoundsViolation(body, bounds)).toEqual({
        path: ['f'],
        message: 'is beyond the 12 values a notification may hold',
      });
    }
  });

  it('text and value agree on every generated JSON body, violation and path included', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const [text, parsed] = bothForms(value);
        expect(findJsonBoundsViolation(text, SMALL)).toEqual(findJsonBoundsViolation(parsed, SMALL));
      }),
      { seed: 20_251_113, numRuns: 2_000 },
    );
  });

  it('strings may hold brackets, quotes and escapes without counting as structure', () => {
    const text = JSON.stringify({ 'k"[{': ['[[[[[', '\\"]]]]', '{"a":[[[[[[[[[[]]]]]]]]]]}'] });
    expect(findJsonBoundsViolation(text, SMALL)).toBeUndefined();
  });

  it('keys in a reported path are cut to a printable length', () => {
    const key = 'k'.repeat(10_000);
    for (const body of bothForms({ [key]: [[[[]]]] })) {
      const [segment] = findJsonBoundsViolation(body, SMALL)?.path ?? [];
      expect(segment).toBe(`${'k'.repeat(MAX_KEY_IN_PATH)}…`);
    }
  });
});

describe('normalizeNotification runs the bounds first (ingest, the CLI normalize and verify --event)', () => {
  const body = fixture('istio-paused.json') as { rollout: { spec: { strategy: { canary: unknown } } } };
  const withTlsRoutes = (tlsRoutes: unknown) => {
    const copy = structuredClone(body) as typeof body;
    const istio = (
      copy.rollout.spec.strategy.canary as { trafficRouting: { istio: { virtualService: object } } }
    ).trafficRouting.istio;
    istio.virtualService = { ...istio.virtualService, tlsRoutes };
    return copy;
  };
  const context = { receivedAt: new Date('2025-11-13T10:00:00Z') };

  /** `[{"port": 443, "x": {"x": … {}}}]`, `containers` deep with the list and its route, built with a loop. */
  function routes(containers: number): unknown[] {
    const route: Record<string, unknown> = { port: 443 };
    let inner = route;
    for (let level = 3; level <= containers; level++) {
      const next: Record<string, unknown> = {};
      inner.x = next;
      inner = next;
    }
    return [route];
  }

  it('a 100,000-level tlsRoutes is a validation error naming the path, as text and as a value', () => {
    const value = withTlsRoutes(routes(100_000));
    for (const input of [
      JSON.stringify(withTlsRoutes([])).replace('"tlsRoutes":[]', `"tlsRoutes":${nestedArraysText(100_000)}`),
      value,
    ]) {
      let caught: unknown;
      try {
        normalizeNotification(input, context);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(NotificationValidationError);
      const [issue] = (caught as NotificationValidationError).issues;
      expect(issue?.path).toMatch(
        /^rollout\.spec\.strategy\.canary\.trafficRouting\.istio\.virtualService\.tlsRoutes(\[0\])+(\.x)*$/,
      );
      expect(issue?.message).toBe('nests deeper than 64 levels');
    }
  });

  it('a tlsRoutes reaching exactly the limit is normalized; one level more is refused', () => {
    // body, rollout, spec, strategy, canary, trafficRouting, istio, virtualService: 8 around the list.
    const containers = JSON_BOUNDS.maxDepth - 8;
    expect(normalizeNotification(withTlsRoutes(routes(containers)), context).traffic).toMatchObject({
      router: 'istio',
    });
    expect(() => normalizeNotification(withTlsRoutes(routes(containers + 1)), context)).toThrow(
      /tlsRoutes\[0\](\.x)+: nests deeper than 64 levels/,
    );
  });
});
