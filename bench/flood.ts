import { setTimeout as sleep } from 'node:timers/promises';
import { SourceAllowList } from '../lambdas/ingest/source-allow-list.js';
import { functionUrlEvent } from '../sim/function-url-event.js';
import { p50p99, round, seededRandom } from './stats.js';
import { type InvokeAnswer, type WebhookCall, World } from './world.js';

/**
 * What a flood of unauthenticated requests does to Argo's deliveries, for each way of taking the
 * webhook's traffic (issue 13, item 8). The ingest function is the deployment bundle with the
 * stack's reserved concurrency of 5 (bench/lambda-model.ts); Argo's notifications controller posts
 * step-completed for `notifications` rollouts at random moments within `windowMs` and, as its
 * webhook service does, retries a 429 or 5xx `retryMax` times after 1, 2, 4… s; meanwhile
 * `attackers` clients send POSTs with a guessed token from outside the clusters, each the moment
 * its previous answer arrived (plus `networkRttMs`), until Argo is done.
 */

export interface FloodOptions {
  notifications: number;
  windowMs: number;
  attackers: number;
  networkRttMs: number;
  /** How long an invocation keeps its container beyond the handler: Lambda's runtime round trips. */
  invocationOverheadMs: number;
  /** Argo's webhook retries of a 429/5xx (deploy/cluster: retryMax 3), waits 1 s doubling, at most 5 s. */
  retryMax: number;
  /** The REST API front's stage throttle. */
  restApiThrottle: { rateLimit: number; burstLimit: number };
  seed: number;
}

export interface DeliveryStats {
  notifications: number;
  deliveredFirstAttempt: number;
  deliveredAfterRetries: number;
  /** Still 429/5xx after every retry: the notification is gone, the step never verified. */
  lost: number;
  deliveryMs: { p50: number; p99: number };
  argoAttempts: number;
}

export interface FloodScenarioResult {
  argo: DeliveryStats;
  flood: {
    requests: number;
    requestsPerSecond: number;
    /** Flood requests that ran the ingest function (each one an invocation, billed and concurrent). */
    invocations: number;
    /** Answered 429 by Lambda (no container free) or by the REST API stage throttle. */
    throttled: number;
    /** Refused by the REST API front's resource policy: Lambda never saw them. */
    refusedBeforeLambda: number;
  };
}

/** The allow-list every scenario that has one uses: the cluster's NAT gateway. */
const CLUSTER_EGRESS = ['203.0.113.0/28'];
const ATTACKER_SOURCES = 254;

type Front = (call: WebhookCall) => Promise<InvokeAnswer>;

/** API Gateway in front: the resource policy's source condition, then the stage's token bucket. */
function restApiFront(
  world: World,
  options: { allowList?: SourceAllowList; throttle: FloodOptions['restApiThrottle'] },
  counts: { refused: number },
): Front {
  let tokens = options.throttle.burstLimit;
  let refilledAt = performance.now();
  return async (call) => {
    if (options.allowList && !options.allowList.allows(call.sourceIp)) {
      counts.refused++;
      return { throttled: false, result: { statusCode: 403 } };
    }
    const now = performance.now();
    tokens = Math.min(
      options.throttle.burstLimit,
      tokens + ((now - refilledAt) / 1000) * options.throttle.rateLimit,
    );
    refilledAt = now;
    if (tokens < 1) return { throttled: true };
    tokens -= 1;
    return world.ingest.invoke(call.event);
  };
}

const SCENARIOS = {
  /** No flood: what Argo gets on a quiet day. */
  noFlood: { flood: false, allowListInFunction: false, front: 'functionUrl' },
  /** Before: the Function URL, the token checked in the function. */
  functionUrl: { flood: true, allowListInFunction: false, front: 'functionUrl' },
  /** ALLOWED_SOURCE_CIDRS in the function: cheaper refusals, each still an invocation. */
  functionUrlWithAllowList: { flood: true, allowListInFunction: true, front: 'functionUrl' },
  /** The REST API front without an allow-list: its stage throttle is shared with the flood. */
  restApiThrottleOnly: { flood: true, allowListInFunction: false, front: 'restApi' },
  /** After: the REST API front whose resource policy refuses sources outside the clusters' egress. */
  restApiWithAllowList: { flood: true, allowListInFunction: true, front: 'restApiAllowList' },
} as const;
export type FloodScenario = keyof typeof SCENARIOS;

export async function measureFlood(
  bundles: { verify: string; ingest: string },
  options: FloodOptions,
): Promise<Record<FloodScenario, FloodScenarioResult>> {
  const results: Partial<Record<FloodScenario, FloodScenarioResult>> = {};
  for (const name of Object.keys(SCENARIOS) as FloodScenario[]) {
    results[name] = await runScenario(bundles, options, SCENARIOS[name]);
  }
  return results as Record<FloodScenario, FloodScenarioResult>;
}

async function runScenario(
  bundles: { verify: string; ingest: string },
  options: FloodOptions,
  scenario: (typeof SCENARIOS)[FloodScenario],
): Promise<FloodScenarioResult> {
  const random = seededRandom(options.seed);
  const world = await World.start({
    bundles,
    elb: { rateLimit: false },
    ingestInvocationOverheadMs: options.invocationOverheadMs,
    ...(scenario.allowListInFunction
      ? { ingestEnvironment: { ALLOWED_SOURCE_CIDRS: CLUSTER_EGRESS.join(',') } }
      : {}),
  });
  try {
    world.routeRolloutEvents = false;
    await world.ingest.prewarm(5);
    const counts = { refused: 0 };
    const front: Front =
      scenario.front === 'functionUrl'
        ? (call) => world.ingest.invoke(call.event)
        : restApiFront(
            world,
            {
              ...(scenario.front === 'restApiAllowList'
                ? { allowList: new SourceAllowList(CLUSTER_EGRESS) }
                : {}),
              throttle: options.restApiThrottle,
            },
            counts,
          );
    const rollouts = Array.from({ length: options.notifications }, (_, i) =>
      world.addRollout(`app${String(i).padStart(3, '0')}`),
    );
    const moments = rollouts.map(() => random() * options.windowMs).sort((a, b) => a - b);
    const statsBefore = { ...world.ingest.stats };

    let flooding = scenario.flood;
    const flood = { requests: 0, throttled: 0 };
    const floodStarted = performance.now();
    const attackers = Array.from({ length: scenario.flood ? options.attackers : 0 }, async (_, attacker) => {
      const sourceIp = `198.51.100.${(attacker % ATTACKER_SOURCES) + 1}`;
      const event = functionUrlEvent({ body: '{}', token: `guess-${attacker}-0123456789abcdef`, sourceIp });
      while (flooding) {
        await sleep(options.networkRttMs);
        flood.requests++;
        if ((await front({ sourceIp, event })).throttled) flood.throttled++;
      }
    });

    const delivery = { first: 0, retried: 0, lost: 0, attempts: 0, invoked: 0, latencies: [] as number[] };
    await Promise.all(
      rollouts.map(async (rollout, index) => {
        await sleep(moments[index] ?? 0);
        const posted = performance.now();
        const body = rollout.argo.stepCompleted(0);
        for (let attempt = 0; ; attempt++) {
          delivery.attempts++;
          await sleep(options.networkRttMs);
          const { statusCode } = await world.notify(body, front);
          if (statusCode !== 429) delivery.invoked++;
          if (statusCode === 202) {
            delivery[attempt === 0 ? 'first' : 'retried']++;
            delivery.latencies.push(performance.now() - posted);
            return;
          }
          if ((statusCode !== 429 && statusCode < 500) || attempt >= options.retryMax) {
            delivery.lost++;
            return;
          }
          await sleep(Math.min(5_000, 1_000 * 2 ** attempt));
        }
      }),
    );
    flooding = false;
    await Promise.all(attackers);
    const floodSeconds = (performance.now() - floodStarted) / 1000;
    const invocations = world.ingest.stats.invocations - statsBefore.invocations;
    return {
      argo: {
        notifications: options.notifications,
        deliveredFirstAttempt: delivery.first,
        deliveredAfterRetries: delivery.retried,
        lost: delivery.lost,
        deliveryMs: p50p99(delivery.latencies),
        argoAttempts: delivery.attempts,
      },
      flood: {
        requests: flood.requests,
        requestsPerSecond: scenario.flood ? round(flood.requests / floodSeconds) : 0,
        invocations: invocations - delivery.invoked,
        throttled: flood.throttled,
        refusedBeforeLambda: counts.refused,
      },
    };
  } finally {
    await world.close();
  }
}
