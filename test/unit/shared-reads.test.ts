import type { Rule, TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../lambdas/core/malformed-response.js';
import {
  listenerArnOf,
  type RuleAndHealthReads,
  SharedReads,
} from '../../lambdas/core/routers/alb/shared-reads.js';

const PREFIX = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012';
const listener = (lb: string, id: string) => `${PREFIX}:listener/app/${lb}/0123/${id}`;
const rule = (lb: string, listenerId: string, id: string) =>
  `${PREFIX}:listener-rule/app/${lb}/0123/${listenerId}/${id}`;

/** A fake account: rules per listener, and a log of every request the shared reads made. */
function account(
  rulesByListener: Record<string, string[]>,
  faults: { throttle?: boolean; missing?: string[] } = {},
) {
  const requests: string[] = [];
  const all = Object.entries(rulesByListener).flatMap(([listenerArn, arns]) =>
    arns.map((arn) => ({ listenerArn, rule: { RuleArn: arn, Priority: '1' } as Rule })),
  );
  const fail = () => {
    const error = new Error('Rate exceeded');
    error.name = 'Throttling';
    throw error;
  };
  const reads: RuleAndHealthReads = {
    async rulesByArn(ruleArns) {
      requests.push(`rules ${ruleArns.length}`);
      await Promise.resolve();
      if (faults.throttle) fail();
      const missing = ruleArns.find((arn) => faults.missing?.includes(arn));
      if (missing) {
        const error = new Error(`One or more rules not found: ${missing}`);
        error.name = 'RuleNotFound';
        throw error;
      }
      return ruleArns.map((arn) => all.find((entry) => entry.rule.RuleArn === arn)?.rule as Rule);
    },
    async rulesOfListener(listenerArn) {
      requests.push(`listener ${listenerArn.split('/').pop()}`);
      await Promise.resolve();
      if (faults.throttle) fail();
      return all
        .filter(
          (entry) => entry.listenerArn === listenerArn && !faults.missing?.includes(entry.rule.RuleArn ?? ''),
        )
        .map((entry) => entry.rule);
    },
    async targetHealth(targetGroupArn) {
      requests.push(`health ${targetGroupArn}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return [{ Target: { Id: targetGroupArn } } as TargetHealthDescription];
    },
  };
  return { reads, requests };
}

const arnsOf = (rules: Rule[]) => rules.map((r) => r.RuleArn);

describe('SharedReads', () => {
  it('answers concurrent callers with one DescribeRules by ARN, each with exactly its rules', async () => {
    const a = rule('a', 'l1', 'r1');
    const b = rule('b', 'l2', 'r2');
    const { reads, requests } = account({ [listener('a', 'l1')]: [a], [listener('b', 'l2')]: [b] });
    const shared = new SharedReads(reads);
    const [first, second] = await Promise.all([shared.rulesByArn([a]), shared.rulesByArn([b])]);
    expect(arnsOf(first)).toEqual([a]);
    expect(arnsOf(second)).toEqual([b]);
    expect(requests).toEqual(['rules 2']);
  });

  it('reads a listener whole when several of its rules are asked for (an IngressGroup shared ALB)', async () => {
    const rules = Array.from({ length: 25 }, (_, index) => rule('shared', 'l1', `r${index}`));
    const { reads, requests } = account({
      [listener('shared', 'l1')]: [...rules, rule('shared', 'l1', 'other')],
    });
    const shared = new SharedReads(reads);
    const answers = await Promise.all(rules.map((arn) => shared.rulesByArn([arn])));
    expect(answers.map(arnsOf)).toEqual(rules.map((arn) => [arn]));
    expect(requests).toEqual(['listener l1']);
  });

  it('asks for up to 20 rules by ARN per request, across listeners and load balancers', async () => {
    const rules = Array.from({ length: 30 }, (_, index) =>
      rule(`lb${index % 3}`, `l${index % 6}`, `r${index}`),
    );
    const { reads, requests } = account(
      Object.fromEntries(
        Array.from({ length: 6 }, (_, l) => [
          listener(`lb${l % 3}`, `l${l}`),
          rules.filter((_, index) => index % 6 === l),
        ]),
      ),
    );
    const shared = new SharedReads(reads);
    const answers = await Promise.all(rules.map((arn) => shared.rulesByArn([arn])));
    expect(answers.map(arnsOf)).toEqual(rules.map((arn) => [arn]));
    expect(requests).toEqual(['rules 20', 'rules 10']);
  });

  it('asks one caller alone exactly as it asked', async () => {
    const a = rule('a', 'l1', 'r1');
    const { reads, requests } = account({ [listener('a', 'l1')]: [a] });
    expect(arnsOf(await new SharedReads(reads).rulesByArn([a]))).toEqual([a]);
    expect(requests).toEqual(['rules 1']);
  });

  it('a rule that is gone fails only its own caller: the shared read is asked again per caller', async () => {
    const kept = rule('a', 'l1', 'r1');
    const gone = rule('b', 'l2', 'r2');
    const { reads, requests } = account(
      { [listener('a', 'l1')]: [kept], [listener('b', 'l2')]: [gone] },
      { missing: [gone] },
    );
    const shared = new SharedReads(reads);
    const [first, second] = await Promise.allSettled([shared.rulesByArn([kept]), shared.rulesByArn([gone])]);
    expect(first).toMatchObject({ status: 'fulfilled', value: [{ RuleArn: kept }] });
    expect(second).toMatchObject({ status: 'rejected', reason: { name: 'RuleNotFound' } });
    expect(requests).toEqual(['rules 2', 'rules 1', 'rules 1']);
  });

  it('a rule missing from its listener is RuleNotFound for that caller only', async () => {
    const rules = Array.from({ length: 22 }, (_, index) => rule('s', 'l1', `r${index}`));
    const { reads } = account({ [listener('s', 'l1')]: rules }, { missing: [rules[21] as string] });
    const shared = new SharedReads(reads);
    const answers = await Promise.allSettled(rules.map((arn) => shared.rulesByArn([arn])));
    expect(answers.map((answer) => answer.status)).toEqual([...Array(21).fill('fulfilled'), 'rejected']);
    expect(answers[21]).toMatchObject({ reason: { name: 'RuleNotFound' } });
  });

  it('throttling reaches every caller of the shared read, and is not asked again (it would only spend more budget)', async () => {
    const a = rule('a', 'l1', 'r1');
    const b = rule('b', 'l2', 'r2');
    const { reads, requests } = account(
      { [listener('a', 'l1')]: [a], [listener('b', 'l2')]: [b] },
      { throttle: true },
    );
    const shared = new SharedReads(reads);
    const answers = await Promise.allSettled([shared.rulesByArn([a]), shared.rulesByArn([b])]);
    expect(answers).toMatchObject([
      { status: 'rejected', reason: { name: 'Throttling' } },
      { status: 'rejected', reason: { name: 'Throttling' } },
    ]);
    expect(requests).toEqual(['rules 2']);
  });

  it('an answer without a caller’s rule (malformed) is asked again per caller', async () => {
    const a = rule('a', 'l1', 'r1');
    const b = rule('b', 'l2', 'r2');
    let calls = 0;
    const reads: RuleAndHealthReads = {
      async rulesByArn(ruleArns) {
        calls++;
        if (ruleArns.length > 1)
          throw new MalformedResponseError('ELBv2 DescribeRules', 'answered without 1 of the 2');
        return ruleArns.map((arn) => ({ RuleArn: arn }));
      },
      rulesOfListener: async () => [],
      targetHealth: async () => [],
    };
    const shared = new SharedReads(reads);
    const answers = await Promise.all([shared.rulesByArn([a]), shared.rulesByArn([b])]);
    expect(answers.map(arnsOf)).toEqual([[a], [b]]);
    expect(calls).toBe(3);
  });

  it('reads a target group’s health once for every look that asks while it is in flight', async () => {
    const { reads, requests } = account({});
    const shared = new SharedReads(reads);
    const answers = await Promise.all([
      shared.targetHealth('tg-1'),
      shared.targetHealth('tg-1'),
      shared.targetHealth('tg-2'),
    ]);
    expect(answers.map((answer) => answer[0]?.Target?.Id)).toEqual(['tg-1', 'tg-1', 'tg-2']);
    expect(requests).toEqual(['health tg-1', 'health tg-2']);
    await shared.targetHealth('tg-1');
    expect(requests).toEqual(['health tg-1', 'health tg-2', 'health tg-1']);
  });

  it('one caller’s deadline cuts only its own wait', async () => {
    const { reads } = account({});
    const shared = new SharedReads(reads);
    const controller = new AbortController();
    const cut = shared.targetHealth('tg-1', controller.signal);
    const other = shared.targetHealth('tg-1');
    controller.abort();
    await expect(cut).rejects.toMatchObject({ name: 'AbortError' });
    await expect(other).resolves.toHaveLength(1);
  });

  it('finds the listener of a rule from its ARN', () => {
    expect(listenerArnOf(rule('k8s-shop-abc', 'f2f7dc8efc522ab2', '9683b2d02a6cabee'))).toBe(
      listener('k8s-shop-abc', 'f2f7dc8efc522ab2'),
    );
    expect(listenerArnOf('arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/x/1')).toBeUndefined();
  });
});
