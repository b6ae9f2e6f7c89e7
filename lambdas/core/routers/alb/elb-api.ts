import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type Listener,
  type LoadBalancer,
  type Rule,
  type TagDescription,
  type TargetGroup,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { markThrottledCall } from '../../cut-short.js';
import { MalformedResponseError } from '../../malformed-response.js';
import { SharedReads, type SharedReadsOptions } from './shared-reads.js';

export const THROTTLING_ERRORS: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);

/**
 * The list every successful answer of these actions carries — empty (`<Rules/>`) when there is
 * nothing, never absent. The SDK (schema-based serde) reads an HTML page, an empty body, another
 * action's answer and a result without its list all as `{}`, and only an empty element as `[]`:
 * the list's presence is what tells an answer from a non-answer.
 */
export const RESULT_LIST: Readonly<Record<string, string>> = {
  DescribeLoadBalancers: 'LoadBalancers',
  DescribeListeners: 'Listeners',
  DescribeRules: 'Rules',
  DescribeTargetGroups: 'TargetGroups',
  DescribeTags: 'TagDescriptions',
  DescribeTargetHealth: 'TargetHealthDescriptions',
};

/** DescribeTags accepts at most 20 ARNs per call. */
export const DESCRIBE_TAGS_BATCH = 20;
/** The largest page the Describe* calls return. */
const PAGE_SIZE = 400;

/**
 * The ELBv2 reads the verifier makes, each a named method so callers read as intent and every
 * HTTP request (retries included) is counted: the account's Describe* budget is shared with the
 * load balancer controller and Argo, so the count is a product metric, not a debug aid.
 */
export class ElbApi {
  private requests = 0;
  private throttled = 0;
  private readonly byAction = new Map<string, number>();
  private shared: SharedReads | undefined;

  constructor(readonly client: ElasticLoadBalancingV2Client) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        this.requests++;
        const action = actionOf(context);
        this.byAction.set(action, (this.byAction.get(action) ?? 0) + 1);
        try {
          return await next(args);
        } catch (error) {
          if (isThrottling(error)) this.throttled++;
          throw error;
        }
      },
      // inside the retry middleware (finalizeRequest, high) and around deserialization: once per attempt, seeing its error
      { step: 'finalizeRequest', priority: 'low', name: 'rolloutVerifierRequestCounter', override: true },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const action = actionOf(context);
        let result: Awaited<ReturnType<typeof next>>;
        try {
          result = await next(args);
        } catch (error) {
          throw unreadableSuccess(action, error) ?? error;
        }
        const list = RESULT_LIST[action];
        if (
          list &&
          !Array.isArray((result.output as unknown as Record<string, unknown> | undefined)?.[list])
        ) {
          throw new MalformedResponseError(
            `ELBv2 ${action}`,
            `${describeHttp(result.response)} without <${list}>`,
          );
        }
        return result;
      },
      // around the deserializer (deserialize, normal): sees what it made of the raw answer
      { step: 'deserialize', priority: 'high', name: 'rolloutVerifierAnswerCheck', override: true },
    );
  }

  /** HTTP requests sent so far (each retry attempt counts: it spends budget too). */
  get requestCount(): number {
    return this.requests;
  }

  /** Attempts answered with Throttling (the SDK retries them until its attempts or the deadline run out). */
  get throttledCount(): number {
    return this.throttled;
  }

  requestsByAction(): Record<string, number> {
    return Object.fromEntries(this.byAction);
  }

  async region(): Promise<string> {
    return await this.client.config.region();
  }

  /** Every name asked for is answered (AWS fails the whole call with LoadBalancerNotFound otherwise). */
  async loadBalancersByName(names: string[], abortSignal?: AbortSignal): Promise<LoadBalancer[]> {
    const out = await this.labelled(
      'DescribeLoadBalancers',
      this.client.send(new DescribeLoadBalancersCommand({ Names: names }), { abortSignal }),
    );
    const loadBalancers = out.LoadBalancers ?? [];
    answeredFor('DescribeLoadBalancers', names, loadBalancers, (lb) => lb.LoadBalancerName);
    return loadBalancers;
  }

  async *allLoadBalancers(abortSignal?: AbortSignal): AsyncGenerator<LoadBalancer[]> {
    let marker: string | undefined;
    do {
      const out = await this.labelled(
        'DescribeLoadBalancers',
        this.client.send(new DescribeLoadBalancersCommand({ Marker: marker, PageSize: PAGE_SIZE }), {
          abortSignal,
        }),
      );
      yield out.LoadBalancers ?? [];
      marker = out.NextMarker;
    } while (marker);
  }

  async listeners(loadBalancerArn: string, abortSignal?: AbortSignal): Promise<Listener[]> {
    const listeners: Listener[] = [];
    let marker: string | undefined;
    do {
      const out = await this.labelled(
        'DescribeListeners',
        this.client.send(
          new DescribeListenersCommand({
            LoadBalancerArn: loadBalancerArn,
            Marker: marker,
            PageSize: PAGE_SIZE,
          }),
          { abortSignal },
        ),
      );
      listeners.push(...(out.Listeners ?? []));
      marker = out.NextMarker;
    } while (marker);
    return listeners;
  }

  /**
   * From now on, rule and target-health reads made at the same time by different looks share
   * their requests (`SharedReads`): for a function that looks at many verifications at once.
   */
  shareConcurrentReads(options?: SharedReadsOptions): void {
    this.shared = new SharedReads(
      {
        rulesByArn: (ruleArns, signal) => this.describeRulesByArn(ruleArns, signal),
        rulesOfListener: (listenerArn, signal) => this.rulesOfListener(listenerArn, signal),
        targetHealth: (targetGroupArn, signal) => this.describeTargetHealth(targetGroupArn, signal),
      },
      options,
    );
  }

  async rulesOfListener(listenerArn: string, abortSignal?: AbortSignal): Promise<Rule[]> {
    const rules: Rule[] = [];
    let marker: string | undefined;
    do {
      const out = await this.labelled(
        'DescribeRules',
        this.client.send(
          new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker, PageSize: PAGE_SIZE }),
          { abortSignal },
        ),
      );
      rules.push(...(out.Rules ?? []));
      marker = out.NextMarker;
    } while (marker);
    // A listener always has its default rule: none at all is a lost answer, not a listener without rules.
    if (rules.length === 0) {
      throw labelledError(
        new MalformedResponseError(
          'ELBv2 DescribeRules',
          `no rules for ${listenerArn}, not even its default rule`,
        ),
        'DescribeRules',
      );
    }
    return rules;
  }

  /** Every ARN asked for is answered (AWS fails the whole call with RuleNotFound otherwise). */
  async rulesByArn(ruleArns: string[], abortSignal?: AbortSignal): Promise<Rule[]> {
    if (this.shared) return await this.shared.rulesByArn(ruleArns, abortSignal);
    return await this.describeRulesByArn(ruleArns, abortSignal);
  }

  private async describeRulesByArn(ruleArns: string[], abortSignal?: AbortSignal): Promise<Rule[]> {
    const out = await this.labelled(
      'DescribeRules',
      this.client.send(new DescribeRulesCommand({ RuleArns: ruleArns }), { abortSignal }),
    );
    const rules = out.Rules ?? [];
    answeredFor('DescribeRules', ruleArns, rules, (rule) => rule.RuleArn);
    return rules;
  }

  async targetGroupsOfLoadBalancer(
    loadBalancerArn: string,
    abortSignal?: AbortSignal,
  ): Promise<TargetGroup[]> {
    return await this.collectTargetGroups({ LoadBalancerArn: loadBalancerArn }, abortSignal);
  }

  /** Every ARN asked for is answered (AWS fails the whole call with TargetGroupNotFound otherwise). */
  async targetGroupsByArn(targetGroupArns: string[], abortSignal?: AbortSignal): Promise<TargetGroup[]> {
    const groups = await this.collectTargetGroups({ TargetGroupArns: targetGroupArns }, abortSignal);
    answeredFor('DescribeTargetGroups', targetGroupArns, groups, (group) => group.TargetGroupArn);
    return groups;
  }

  async *allTargetGroups(abortSignal?: AbortSignal): AsyncGenerator<TargetGroup[]> {
    let marker: string | undefined;
    do {
      const out = await this.labelled(
        'DescribeTargetGroups',
        this.client.send(new DescribeTargetGroupsCommand({ Marker: marker, PageSize: PAGE_SIZE }), {
          abortSignal,
        }),
      );
      yield out.TargetGroups ?? [];
      marker = out.NextMarker;
    } while (marker);
  }

  /** Tags of any number of resources, in batches of 20 (the API's limit), batches in parallel. */
  async tags(
    resourceArns: string[],
    abortSignal?: AbortSignal,
  ): Promise<Map<string, Record<string, string>>> {
    const batches: string[][] = [];
    for (let i = 0; i < resourceArns.length; i += DESCRIBE_TAGS_BATCH) {
      batches.push(resourceArns.slice(i, i + DESCRIBE_TAGS_BATCH));
    }
    const results = await Promise.all(
      batches.map((batch) =>
        this.labelled(
          'DescribeTags',
          this.client.send(new DescribeTagsCommand({ ResourceArns: batch }), { abortSignal }),
        ),
      ),
    );
    const descriptions = results.flatMap((result) => result.TagDescriptions ?? []);
    // One description per resource, tagged or not (AWS fails the call for an unknown ARN).
    answeredFor('DescribeTags', resourceArns, descriptions, (description) => description.ResourceArn);
    const tags = new Map<string, Record<string, string>>();
    for (const description of descriptions) {
      if (description.ResourceArn) tags.set(description.ResourceArn, tagRecord(description));
    }
    return tags;
  }

  async targetHealth(targetGroupArn: string, abortSignal?: AbortSignal): Promise<TargetHealthDescription[]> {
    if (this.shared) return await this.shared.targetHealth(targetGroupArn, abortSignal);
    return await this.describeTargetHealth(targetGroupArn, abortSignal);
  }

  private async describeTargetHealth(
    targetGroupArn: string,
    abortSignal?: AbortSignal,
  ): Promise<TargetHealthDescription[]> {
    const out = await this.labelled(
      'DescribeTargetHealth',
      this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }), {
        abortSignal,
      }),
    );
    return out.TargetHealthDescriptions ?? [];
  }

  /**
   * SDK errors do not say which call failed (findings must name the IAM action to grant), and a
   * deadline that cuts short a call being retried for throttling must still read as throttling.
   */
  private async labelled<T>(action: string, request: Promise<T>): Promise<T> {
    const throttledBefore = this.throttled;
    try {
      return await request;
    } catch (error) {
      throw labelledError(error, action, this.throttled > throttledBefore);
    }
  }

  private async collectTargetGroups(
    filter: { LoadBalancerArn?: string; TargetGroupArns?: string[] },
    abortSignal?: AbortSignal,
  ): Promise<TargetGroup[]> {
    const groups: TargetGroup[] = [];
    let marker: string | undefined;
    do {
      const out = await this.labelled(
        'DescribeTargetGroups',
        this.client.send(
          new DescribeTargetGroupsCommand({
            ...filter,
            Marker: marker,
            PageSize: filter.TargetGroupArns ? undefined : PAGE_SIZE,
          }),
          { abortSignal },
        ),
      );
      groups.push(...(out.TargetGroups ?? []));
      marker = out.NextMarker;
    } while (marker);
    return groups;
  }
}

function tagRecord(description: TagDescription): Record<string, string> {
  return Object.fromEntries((description.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

function isThrottling(error: unknown): boolean {
  return error instanceof Error && THROTTLING_ERRORS.has(error.name);
}

/** `DescribeRules`, from the middleware context of a DescribeRulesCommand. */
function actionOf(context: { commandName?: string }): string {
  return String(context.commandName ?? 'unknown').replace(/Command$/, '');
}

/** Names the failed call's action on the error (findings must name the IAM action to grant). */
function labelledError(error: unknown, action: string, throttledDuringCall = false): unknown {
  if (error instanceof Error) Object.assign(error, { elbAction: action });
  return markThrottledCall(error, throttledDuringCall);
}

/** Throws when a by-name or by-ARN answer leaves out some of what was asked for. */
function answeredFor<T>(
  action: string,
  asked: readonly string[],
  answered: readonly T[],
  keyOf: (item: T) => string | undefined,
): void {
  const keys = new Set(answered.map(keyOf));
  const missing = asked.filter((key) => !keys.has(key));
  if (missing.length === 0) return;
  throw labelledError(
    new MalformedResponseError(
      `ELBv2 ${action}`,
      `answered without ${missing.length} of the ${asked.length} asked for (${missing[0]}${missing.length > 1 ? ', …' : ''})`,
    ),
    action,
  );
}

/**
 * A 2xx answer the SDK could not read (truncated XML, JSON or plain text where XML belongs): the
 * deserializer's error carries the raw response. Errors of non-2xx answers are the service's own.
 */
function unreadableSuccess(action: string, error: unknown): MalformedResponseError | undefined {
  const response = (error as { $response?: unknown } | undefined)?.$response;
  const status = (response as { statusCode?: number } | undefined)?.statusCode;
  if (status === undefined || status < 200 || status > 299) return undefined;
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new MalformedResponseError(
    `ELBv2 ${action}`,
    `${describeHttp(response)} the SDK could not read: ${reason}`,
    {
      cause: error,
    },
  );
}

/** `HTTP 200 (text/html)`, from an HttpResponse. */
function describeHttp(response: unknown): string {
  const { statusCode, headers } = (response ?? {}) as {
    statusCode?: number;
    headers?: Record<string, string>;
  };
  const type = headers?.['content-type'];
  return `HTTP ${statusCode ?? '?'}${type ? ` (${type})` : ''}`;
}
