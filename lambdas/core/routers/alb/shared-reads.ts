import type { Rule, TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { MalformedResponseError } from '../../malformed-response.js';
import { isNotFound } from './errors.js';

/** The reads `SharedReads` combines, one request each (ElbApi's own). */
export interface RuleAndHealthReads {
  rulesByArn(ruleArns: string[], signal?: AbortSignal): Promise<Rule[]>;
  rulesOfListener(listenerArn: string, signal?: AbortSignal): Promise<Rule[]>;
  targetHealth(targetGroupArn: string, signal?: AbortSignal): Promise<TargetHealthDescription[]>;
}

export interface SharedReadsOptions {
  /**
   * How long the first request waits for others to join it. Default 0: the requests made in the
   * same turn of the event loop (the looks of one batch start together) — a longer window would be
   * latency added to every look.
   */
  windowMs?: number;
  /**
   * A listener with at least this many of the asked-for rules is read whole (DescribeRules by
   * ListenerArn, pages of 400): behind an IngressGroup's shared ALB, one request answers every
   * rollout on it. Fewer are asked for by ARN, where a request also carries other listeners'
   * rules. Default: more than one by-ARN request holds.
   */
  listenerReadMinRules?: number;
  /** Rule ARNs per DescribeRules request (the API documents no limit; stay well clear of URL limits). */
  ruleArnsPerRequest?: number;
}

interface RulesWaiter {
  ruleArns: string[];
  resolve: (rules: Rule[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Looks that run at the same time (the verify function takes a batch of verifications per
 * invocation) share their ELBv2 reads, which come out of one per-account budget shared with the
 * load balancer controller: the rules asked for within `windowMs` are read together (whole
 * listeners where several are on one, otherwise by ARN, many per request), and a target group's
 * health being read already is not read a second time. Each caller still gets exactly its own
 * rules, or its own error: a by-ARN read of several callers that fails because one rule is gone
 * (not found, or an answer without it) is asked again per caller, so one replaced rule does not
 * blind the others.
 */
export class SharedReads {
  private waiting: RulesWaiter[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly healthInFlight = new Map<string, Promise<TargetHealthDescription[]>>();
  private readonly windowMs: number;
  private readonly listenerReadMinRules: number;
  private readonly ruleArnsPerRequest: number;

  constructor(
    private readonly reads: RuleAndHealthReads,
    options: SharedReadsOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 0;
    this.ruleArnsPerRequest = options.ruleArnsPerRequest ?? 20;
    this.listenerReadMinRules = options.listenerReadMinRules ?? this.ruleArnsPerRequest + 1;
  }

  rulesByArn(ruleArns: string[], signal?: AbortSignal): Promise<Rule[]> {
    const answer = new Promise<Rule[]>((resolve, reject) => {
      this.waiting.push({ ruleArns, resolve, reject });
    });
    this.timer ??=
      this.windowMs > 0
        ? setTimeout(() => void this.flush(), this.windowMs)
        : setImmediate(() => void this.flush());
    return untilAborted(answer, signal);
  }

  targetHealth(targetGroupArn: string, signal?: AbortSignal): Promise<TargetHealthDescription[]> {
    let read = this.healthInFlight.get(targetGroupArn);
    if (!read) {
      read = this.reads.targetHealth(targetGroupArn);
      this.healthInFlight.set(targetGroupArn, read);
      const forget = () => this.healthInFlight.delete(targetGroupArn);
      read.then(forget, forget);
    }
    return untilAborted(read, signal);
  }

  private async flush(): Promise<void> {
    const waiters = this.waiting;
    this.waiting = [];
    this.timer = undefined;
    if (waiters.length === 1) {
      const [only] = waiters as [RulesWaiter];
      await this.reads.rulesByArn(only.ruleArns).then(only.resolve, only.reject);
      return;
    }
    const { byListener, byArn } = this.plan(waiters);
    const found = new Map<string, Rule>();
    const failed = new Map<string, unknown>();
    await Promise.all([
      ...[...byListener].map(async ([listenerArn, asked]) => {
        try {
          const rules = await this.reads.rulesOfListener(listenerArn);
          for (const rule of rules)
            if (rule.RuleArn && asked.has(rule.RuleArn)) found.set(rule.RuleArn, rule);
          for (const arn of asked) if (!found.has(arn)) failed.set(arn, ruleNotFound(arn, listenerArn));
        } catch (error) {
          for (const arn of asked) failed.set(arn, error);
        }
      }),
      ...chunks(byArn, this.ruleArnsPerRequest).map(async (chunk) => {
        try {
          for (const rule of await this.reads.rulesByArn(chunk))
            if (rule.RuleArn) found.set(rule.RuleArn, rule);
        } catch (error) {
          for (const arn of chunk) failed.set(arn, error);
        }
      }),
    ]);
    await Promise.all(
      waiters.map(async (waiter) => {
        const error = waiter.ruleArns.map((arn) => failed.get(arn)).find((e) => e !== undefined);
        if (error === undefined) {
          waiter.resolve(waiter.ruleArns.map((arn) => found.get(arn) as Rule));
          return;
        }
        // Throttling and the like would only cost more requests asked again: every caller sees it.
        if (!isNotFound(error) && !isMalformed(error)) {
          waiter.reject(error);
          return;
        }
        await this.reads.rulesByArn(waiter.ruleArns).then(waiter.resolve, waiter.reject);
      }),
    );
  }

  /** Which listeners to read whole, and which rules to ask for by ARN. */
  private plan(waiters: RulesWaiter[]): { byListener: Map<string, Set<string>>; byArn: string[] } {
    const perListener = new Map<string, Set<string>>();
    const unplaced: string[] = [];
    for (const arn of new Set(waiters.flatMap((waiter) => waiter.ruleArns))) {
      const listener = listenerArnOf(arn);
      if (!listener) {
        unplaced.push(arn);
        continue;
      }
      const rules = perListener.get(listener) ?? new Set<string>();
      rules.add(arn);
      perListener.set(listener, rules);
    }
    const byListener = new Map<string, Set<string>>();
    const byArn = [...unplaced];
    for (const [listener, rules] of perListener) {
      if (rules.size >= this.listenerReadMinRules) byListener.set(listener, rules);
      else byArn.push(...rules);
    }
    return { byListener, byArn };
  }
}

/** `…:listener-rule/app/<lb>/<lb-id>/<listener-id>/<rule-id>` → `…:listener/app/<lb>/<lb-id>/<listener-id>`. */
export function listenerArnOf(ruleArn: string): string | undefined {
  const match =
    /^(arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:)listener-rule\/((?:app|net|gwy)\/[^/]+\/[^/]+\/[^/]+)\/[^/]+$/.exec(
      ruleArn,
    );
  return match ? `${match[1]}listener/${match[2]}` : undefined;
}

function ruleNotFound(ruleArn: string, listenerArn: string): Error {
  const error = new Error(`rule ${ruleArn} is not among the rules of ${listenerArn}`);
  error.name = 'RuleNotFound';
  return Object.assign(error, { elbAction: 'DescribeRules' });
}

function isMalformed(error: unknown): boolean {
  return error instanceof MalformedResponseError;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The shared answer, or this caller's abort: one caller's deadline must not cut the others' read. */
function untilAborted<T>(answer: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return answer;
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    answer.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function abortError(): Error {
  const error = new Error('the look was cut short while a shared ELBv2 read was in flight');
  error.name = 'AbortError';
  return error;
}
