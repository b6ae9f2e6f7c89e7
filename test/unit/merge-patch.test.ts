import { describe, expect, it } from 'vitest';
import { applyMergePatch } from '../../sim/kube/merge-patch.js';

describe('applyMergePatch (RFC 7386)', () => {
  // RFC 7386 Appendix A, every row: original, patch, result.
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('Appendix A: %j patched with %j is %j', (original, patch, result) => {
    expect(applyMergePatch(original, patch)).toStrictEqual(result);
  });

  it('RFC 7386 section 3: the example document', () => {
    const original = {
      title: 'Goodbye!',
      author: { givenName: 'John', familyName: 'Doe' },
      tags: ['example', 'sample'],
      content: 'This will be unchanged',
    };
    const patch = {
      title: 'Hello!',
      phoneNumber: '+01-123-456-7890',
      author: { familyName: null },
      tags: ['example'],
    };
    expect(applyMergePatch(original, patch)).toStrictEqual({
      title: 'Hello!',
      author: { givenName: 'John' },
      tags: ['example'],
      content: 'This will be unchanged',
      phoneNumber: '+01-123-456-7890',
    });
  });

  it('modifies neither argument and shares nothing with them', () => {
    const original = {
      status: { pauseConditions: [{ reason: 'CanaryPauseStep' }], phase: 'Paused' },
      spec: { replicas: 5 },
    };
    const patch = { status: { abort: true, pauseConditions: null }, metadata: { labels: { a: 'b' } } };
    const before = structuredClone({ original, patch });
    const result = applyMergePatch(original, patch) as typeof original & typeof patch;
    expect({ original, patch }).toStrictEqual(before);
    result.spec.replicas = 7;
    result.metadata.labels.a = 'changed';
    expect(original.spec.replicas).toBe(5);
    expect(patch.metadata.labels.a).toBe('b');
  });

  it('the abort and promote patches the callback sends', () => {
    const rollout = {
      spec: { paused: true, replicas: 5 },
      status: {
        currentStepIndex: 1,
        pauseConditions: [{ reason: 'CanaryPauseStep', startTime: 't' }],
        phase: 'Paused',
      },
    };
    expect(applyMergePatch(rollout, { status: { abort: true } })).toStrictEqual({
      spec: { paused: true, replicas: 5 },
      status: { ...rollout.status, abort: true },
    });
    expect(
      applyMergePatch(rollout, { spec: { paused: false }, status: { pauseConditions: null } }),
    ).toStrictEqual({
      spec: { paused: false, replicas: 5 },
      status: { currentStepIndex: 1, phase: 'Paused' },
    });
  });

  it('keeps a member named __proto__ as a member, without touching prototypes', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    const result = applyMergePatch({}, patch) as Record<string, unknown>;
    expect(Object.keys(result)).toStrictEqual(['__proto__']);
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
