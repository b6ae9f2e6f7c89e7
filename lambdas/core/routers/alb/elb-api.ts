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

export const THROTTLING_ERRORS: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);

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

  constructor(readonly client: ElasticLoadBalancingV2Client) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        this.requests++;
        const action = String(context.commandName ?? 'unknown').replace(/Command$/, '');
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

  async loadBalancersByName(names: string[], abortSignal?: AbortSignal): Promise<LoadBalancer[]> {
    const out = await this.labelled(
      'DescribeLoadBalancers',
      this.client.send(new DescribeLoadBalancersCommand({ Names: names }), { abortSignal }),
    );
    return out.LoadBalancers ?? [];
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
    return rules;
  }

  async rulesByArn(ruleArns: string[], abortSignal?: AbortSignal): Promise<Rule[]> {
    const out = await this.labelled(
      'DescribeRules',
      this.client.send(new DescribeRulesCommand({ RuleArns: ruleArns }), { abortSignal }),
    );
    return out.Rules ?? [];
  }

  async targetGroupsOfLoadBalancer(
    loadBalancerArn: string,
    abortSignal?: AbortSignal,
  ): Promise<TargetGroup[]> {
    return await this.collectTargetGroups({ LoadBalancerArn: loadBalancerArn }, abortSignal);
  }

  async targetGroupsByArn(targetGroupArns: string[], abortSignal?: AbortSignal): Promise<TargetGroup[]> {
    return await this.collectTargetGroups({ TargetGroupArns: targetGroupArns }, abortSignal);
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
    const tags = new Map<string, Record<string, string>>();
    for (const description of results.flatMap((result) => result.TagDescriptions ?? [])) {
      if (description.ResourceArn) tags.set(description.ResourceArn, tagRecord(description));
    }
    return tags;
  }

  async targetHealth(targetGroupArn: string, abortSignal?: AbortSignal): Promise<TargetHealthDescription[]> {
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
      if (error instanceof Error) {
        Object.assign(error, { elbAction: action, throttledDuringCall: this.throttled > throttledBefore });
      }
      throw error;
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
