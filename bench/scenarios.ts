import { setTimeout as sleep } from 'node:timers/promises';
import type { Verdict } from '../lambdas/core/contracts/verdict-event.js';
import type { DeliveredEvent } from '../sim/eventbridge/index.js';
import { argoStyleVerification, baselineClient } from './argo-baseline.js';
import type { VerifyUsage } from './cost.js';
import { HttpTimer } from './http-timing.js';
import { p50p99, round, seededRandom } from './stats.js';
import { type BenchRollout, UNLIMITED_DESCRIBE_BUDGET, World } from './world.js';

export interface Bundles {
  verify: string;
  ingest: string;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

function callsSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([action, count]) => [action, count - (before[action] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
}

function verdictOf(world: World, eventId: string | undefined): Verdict | 'none' {
  return (eventId && world.verdicts.get(eventId)?.[0]?.verdict.verdict) || 'none';
}

// ---------------------------------------------------------------- ELBv2 calls per verification

export interface ElbCallsResult {
  first: number;
  steady: number;
  firstWith500LoadBalancers: number;
  steadyWith500LoadBalancers: number;
  baselineWith1LoadBalancer: number;
  baselineWith500LoadBalancers: number;
  /** Per measured verification: ELBv2 requests by action, and the verdict reached. */
  detail: Record<string, { calls: Record<string, number>; verdict: string }>;
}

/**
 * Through the whole pipeline (Argo body → ingest → EventBridge → verify, one warm container), the
 * ELBv2 requests the simulator receives for a rollout's first step (discovery + observation) and
 * its next step (cached discovery), in an account with the rollout's ALB alone and with 500
 * other load balancers (each with a listener, rule and target group) created before it. Then,
 * in the same account, the Argo-style lookup. No rate limit, so no retries: pure call counts.
 */
export async function measureElbCalls(bundles: Bundles): Promise<ElbCallsResult> {
  const detail: ElbCallsResult['detail'] = {};
  const counts: Record<string, number> = {};
  for (const unrelated of [0, 500]) {
    const suffix = unrelated ? 'With500LoadBalancers' : '';
    const world = await World.start({ bundles, elb: { rateLimit: false }, verifyConcurrency: 1 });
    try {
      await world.verify.prewarm(1);
      await world.ingest.prewarm(1);
      if (unrelated) world.elb.addUnrelatedLoadBalancers(unrelated, { withTargetGroups: true });
      const rollout = world.addRollout('checkout');
      for (const [phase, index] of [
        ['first', 0],
        ['steady', 2],
      ] as const) {
        const weight = rollout.argo.weightAt(index);
        world.scaleCanary(rollout, weight);
        world.applyWeights(rollout, weight);
        const before = world.elb.calls();
        const { eventId } = await world.notify(rollout.argo.stepCompleted(index));
        await world.settle();
        const calls = callsSince(before, world.elb.calls());
        detail[`${phase}${suffix}`] = { calls, verdict: verdictOf(world, eventId) };
        counts[`${phase}${suffix}`] = sum(calls);
      }
      const before = world.elb.calls();
      const client = baselineClient(world.elb.endpoint);
      const baseline = await argoStyleVerification(client, {
        dnsName: rollout.alb.dnsName,
        stableTargetGroupArn: rollout.alb.stableTargetGroupArn,
        canaryTargetGroupArn: rollout.alb.canaryTargetGroupArn,
      });
      client.destroy();
      const calls = callsSince(before, world.elb.calls());
      const key = unrelated ? 'baselineWith500LoadBalancers' : 'baselineWith1LoadBalancer';
      detail[key] = { calls, verdict: `canary weights read: ${baseline.canaryWeights.join(', ')}` };
      counts[key] = sum(calls);
    } finally {
      await world.close();
    }
  }
  return {
    first: counts.first ?? Number.NaN,
    steady: counts.steady ?? Number.NaN,
    firstWith500LoadBalancers: counts.firstWith500LoadBalancers ?? Number.NaN,
    steadyWith500LoadBalancers: counts.steadyWith500LoadBalancers ?? Number.NaN,
    baselineWith1LoadBalancer: counts.baselineWith1LoadBalancer ?? Number.NaN,
    baselineWith500LoadBalancers: counts.baselineWith500LoadBalancers ?? Number.NaN,
    detail,
  };
}

// ---------------------------------------------------------------- verdict after convergence

export interface ConvergenceOptions {
  samples: number;
  /** Rollouts verified at the same time (each has its own verify container). */
  parallel: number;
  /** The simulator's rule propagation delay. */
  propagationMs: number;
  /** The controller applies the weights uniformly within this long after Argo's notification. */
  controllerLagMaxMs: number;
  seed: number;
}

export interface ConvergenceResult {
  p50: number;
  p99: number;
  samples: number;
  notSucceeded: number;
  /** Observations per verification, median. */
  observationsP50: number;
  /**
   * ELBv2 Describe requests per verification, all of them: each rollout is new, so this includes
   * its discovery (`elbCalls.first` minus one observation) and every look until the verdict.
   */
  describeCallsPerVerification: number;
  /** The verify function's usage, for the cost per 1,000 verifications. */
  usage: VerifyUsage;
  durationSeconds: number;
  settings: ConvergenceOptions & {
    initialDelayMs: number;
    maxDelayMs: number;
    steadyLooks: number;
    deadlineSeconds: number;
  };
}

/**
 * Argo posts step-completed (→ ingest → EventBridge → verify) when the ALB is not right yet: the
 * load balancer controller applies the weights `controllerLag` later and they become visible
 * after the simulator's propagation delay. Measured: from that moment (visibleAt) to the verdict
 * event on the bus, with the verifier's production settings (first backoff ceiling 1 s doubling
 * to 5 s, full jitter, deadline 30 s).
 */
export async function measureConvergence(
  bundles: Bundles,
  options: ConvergenceOptions,
): Promise<ConvergenceResult> {
  const random = seededRandom(options.seed);
  const world = await World.start({
    bundles,
    elb: { rateLimit: false, propagationDelayMs: options.propagationMs },
    verifyConcurrency: options.parallel,
    // No Describe budget here (the burst's subject): verify's pacing is told the account has none either.
    verifyEnvironment: UNLIMITED_DESCRIBE_BUDGET,
  });
  const latencies: number[] = [];
  const observations: number[] = [];
  let notSucceeded = 0;
  const started = Date.now();
  let describeCalls = 0;
  let usage: VerifyUsage | undefined;
  try {
    await world.verify.prewarm(options.parallel);
    await world.ingest.prewarm();
    const callsBefore = sum(world.elb.calls());
    const usageSince = world.verifyUsageFromNow();
    let next = 0;
    const worker = async (index: number) => {
      // staggered starts: Argo's posts rarely collide on ingest's 5 containers
      await sleep((index * 1000) / options.parallel);
      while (next < options.samples) {
        const rollout = world.addRollout(`conv${String(next++).padStart(4, '0')}`);
        world.scaleCanary(rollout, 20);
        const lag = random() * options.controllerLagMaxMs;
        let visibleAt = Number.NaN;
        const applied = sleep(lag).then(() => {
          world.applyWeights(rollout, 20);
          visibleAt = Date.now() + options.propagationMs;
        });
        let answer = await world.notify(rollout.argo.stepCompleted(0));
        // all 5 ingest containers busy (429): post again, the measurement starts at visibility anyway
        while (answer.statusCode === 429) {
          await sleep(20);
          answer = await world.notify(rollout.argo.stepCompleted(0));
        }
        const { statusCode, eventId } = answer;
        if (!eventId) throw new Error(`ingest answered ${statusCode} and published nothing`);
        const received = await world.waitForVerdict(eventId);
        await applied;
        if (received.verdict.verdict !== 'Succeeded') notSucceeded++;
        else latencies.push(received.at - visibleAt);
        observations.push(received.verdict.attempts);
      }
    };
    await Promise.all(Array.from({ length: options.parallel }, (_, index) => worker(index)));
    await world.settle();
    describeCalls = sum(world.elb.calls()) - callsBefore;
    usage = usageSince(observations.length);
  } finally {
    await world.close();
  }
  return {
    ...p50p99(latencies),
    samples: latencies.length + notSucceeded,
    notSucceeded,
    observationsP50: p50p99(observations).p50,
    describeCallsPerVerification: round(describeCalls / Math.max(1, observations.length), 2),
    usage,
    durationSeconds: round((Date.now() - started) / 1000, 1),
    settings: { ...options, initialDelayMs: 1_000, maxDelayMs: 5_000, steadyLooks: 10, deadlineSeconds: 30 },
  };
}

// ---------------------------------------------------------------- handler overhead

export interface OverheadResult {
  /** Handler wall time minus the time an ELBv2/EventBridge HTTP exchange was open. */
  p50: number;
  p99: number;
  totalMs: { p50: number; p99: number };
  httpMs: { p50: number; p99: number };
  invocations: number;
  exchangesPerInvocation: number;
}

/**
 * The verify handler of one warm container, called directly with the EventBridge event ingest
 * published, over and over: a steady-state verification (cached discovery, the ALB right at the
 * first observation: 3 ELBv2 calls and 1 PutEvents), the simulators at zero added latency and no
 * rate limit. Overhead = the handler's wall time minus the wall time during which one of its HTTP
 * exchanges was open (which includes the in-process simulators' work); what remains is middy,
 * Powertools, zod parsing, judging and the SDK's own serialising, signing and parsing.
 */
export async function measureHandlerOverhead(
  bundles: Bundles,
  { warmup, invocations }: { warmup: number; invocations: number },
): Promise<OverheadResult> {
  const world = await World.start({
    bundles,
    elb: { rateLimit: false, latencyMs: 0 },
    verifyConcurrency: 2,
    verifyEnvironment: UNLIMITED_DESCRIBE_BUDGET,
  });
  const timer = new HttpTimer();
  const totals: number[] = [];
  const http: number[] = [];
  const overheads: number[] = [];
  let exchanges = 0;
  try {
    await world.verify.prewarm(1);
    const rollout: BenchRollout = world.addRollout('checkout');
    world.scaleCanary(rollout, 20);
    world.applyWeights(rollout, 20);
    const { eventId } = await world.notify(rollout.argo.stepCompleted(0));
    await world.settle();
    const event = eventId ? world.publishedEvent(eventId) : undefined;
    if (!event || verdictOf(world, eventId) !== 'Succeeded') throw new Error('the first verification failed');
    const [handler] = world.verify.handlers();
    if (!handler) throw new Error('no verify container');
    for (let i = 0; i < warmup + invocations; i++) {
      timer.reset();
      const started = performance.now();
      await handler(world.looksDelivery(event), world.verify.context());
      const total = performance.now() - started;
      if (i < warmup) continue;
      const open = timer.openMs();
      totals.push(total);
      http.push(open);
      overheads.push(total - open);
      exchanges += timer.exchanges();
    }
  } finally {
    timer.close();
    await world.close();
  }
  return {
    ...p50p99(overheads),
    totalMs: p50p99(totals),
    httpMs: p50p99(http),
    invocations,
    exchangesPerInvocation: round(exchanges / invocations, 2),
  };
}

// ---------------------------------------------------------------- burst

export interface BurstOptions {
  rollouts: number;
  windowMs: number;
  propagationMs: number;
  controllerLagMaxMs: number;
  seed: number;
  /** Every rollout's Ingress in this IngressGroup: one shared ALB and listeners (default: an ALB each). */
  group?: string;
  /** VERIFY_DESCRIBE_SHARE (default: the function's own, 0.5). */
  describeShare?: number;
}

export interface BurstResult {
  rollouts: number;
  peakDescribePerSecond: number;
  throttledCalls: number;
  notSucceeded: number;
  lostEvents: number;
  describeCalls: number;
  published: number;
  verdicts: Record<string, number>;
  findings: Record<string, number>;
  duplicateVerdicts: number;
  ingestRejected: number;
  verifyMaxQueueWaitSeconds: number;
  lastVerdictAfterSeconds: number;
  /** Describe requests per published rollout event (throttled ones included). */
  describeCallsPerVerification: number;
  /** From Argo's notification to the verdict on the bus, per verification. */
  verdictAfterStepMs: { p50: number; p99: number };
  usage: VerifyUsage;
  warmupSeconds: number;
  settings: BurstOptions & {
    reservedConcurrency: number;
    rateLimit: { burst: number; refillPerSecond: number };
  };
}

/**
 * `rollouts` rollouts, each with its own ALB, step (setWeight 20 → 50) at random moments within
 * `windowMs`, under the simulator's shared Describe* budget (40 burst, 10/s refill) and the
 * stack's reserved concurrency of 5 for verify. Every verify container has verified each rollout's
 * previous step before the burst (warm discovery caches, done without the rate limit and not
 * counted). At its moment each rollout: the controller applies the weights (visible after the lag
 * and the propagation delay) and Argo posts step-completed through ingest → EventBridge → verify.
 */
export async function measureBurst(bundles: Bundles, options: BurstOptions): Promise<BurstResult> {
  const random = seededRandom(options.seed);
  const rateLimit = { burst: 40, refillPerSecond: 10 };
  const world = await World.start({
    bundles,
    elb: { rateLimit: false, propagationDelayMs: 0 },
    verifyConcurrency: 5,
    ...(options.describeShare === undefined
      ? {}
      : { verifyEnvironment: { VERIFY_DESCRIBE_SHARE: String(options.describeShare) } }),
  });
  try {
    await world.verify.prewarm(5);
    await world.ingest.prewarm(5);
    const rollouts = Array.from({ length: options.rollouts }, (_, i) => {
      const rollout = world.addRollout(`app${String(i).padStart(3, '0')}`, 0, options.group);
      world.scaleCanary(rollout, 50);
      world.applyWeights(rollout, 20);
      return rollout;
    });
    // Warm-up: each container verifies every rollout's step 0 (weights 20 already visible).
    const warmupStarted = Date.now();
    world.setDescribeBudget(undefined);
    world.routeRolloutEvents = false;
    const events: DeliveredEvent[] = [];
    for (const rollout of rollouts) {
      const { eventId } = await world.notify(rollout.argo.stepCompleted(0));
      const event = eventId ? world.publishedEvent(eventId) : undefined;
      if (!event) throw new Error(`ingest did not publish ${rollout.name}'s step 0`);
      events.push(event);
    }
    // (several at a time per container: only the caches matter here, not Lambda's one-at-a-time)
    await Promise.all(
      world.verify.handlers().flatMap((handler) =>
        [0, 1, 2, 3].map(async (lane) => {
          for (let i = lane; i < events.length; i += 4) {
            const event = events[i];
            if (event) await handler(world.looksDelivery(event), world.verify.context());
          }
        }),
      ),
    );
    await world.settle();
    world.routeRolloutEvents = true;
    const warmupSeconds = round((Date.now() - warmupStarted) / 1000, 1);
    const warmupPublished = new Set(world.publishedRolloutEvents().map((event) => event.id));

    // The burst, under the shared budget.
    world.elb.setPropagationDelay(options.propagationMs);
    world.elb.setRateLimit(rateLimit);
    world.setDescribeBudget(rateLimit);
    world.elb.resetCalls();
    const usageSince = world.verifyUsageFromNow();
    world.maxLooksQueueWaitMs = 0;
    const ingestRejectedBefore = world.ingest.stats.rejected;
    const started = Date.now();
    const moments = rollouts.map(() => random() * options.windowMs).sort((a, b) => a - b);
    const notifiedAt = new Map<string, number>();
    await Promise.all(
      rollouts.map(async (rollout, i) => {
        await sleep(moments[i] ?? 0);
        const lag = random() * options.controllerLagMaxMs;
        setTimeout(() => world.applyWeights(rollout, 50), lag);
        const at = Date.now();
        const { eventId } = await world.notify(rollout.argo.stepCompleted(2));
        if (eventId) notifiedAt.set(eventId, at);
      }),
    );
    await sleep(options.controllerLagMaxMs);
    await world.settle();
    const stats = world.elb.stats();

    const published = world.publishedRolloutEvents().filter((event) => !warmupPublished.has(event.id));
    const verdicts: Record<string, number> = {};
    const findings: Record<string, number> = {};
    let lost = 0;
    let duplicates = 0;
    let last = started;
    const afterStep: number[] = [];
    for (const event of published) {
      const eventId = (event.detail as { eventId: string }).eventId;
      const received = (world.verdicts.get(eventId) ?? []).filter((verdict) => verdict.at >= started);
      if (received.length === 0) lost++;
      if (received.length > 1) duplicates += received.length - 1;
      const [first] = received;
      if (!first) continue;
      last = Math.max(last, first.at);
      const at = notifiedAt.get(eventId);
      if (at !== undefined) afterStep.push(first.at - at);
      verdicts[first.verdict.verdict] = (verdicts[first.verdict.verdict] ?? 0) + 1;
      for (const code of new Set(first.verdict.findings.map((finding) => finding.code))) {
        findings[code] = (findings[code] ?? 0) + 1;
      }
    }
    return {
      rollouts: options.rollouts,
      peakDescribePerSecond: stats.peakCallsPerSecond,
      throttledCalls: stats.throttledTotal,
      notSucceeded: published.length - lost - (verdicts.Succeeded ?? 0),
      lostEvents: lost + (options.rollouts - published.length),
      describeCalls: sum(stats.calls),
      published: published.length,
      verdicts,
      findings,
      duplicateVerdicts: duplicates,
      ingestRejected: world.ingest.stats.rejected - ingestRejectedBefore,
      verifyMaxQueueWaitSeconds: round(world.maxLooksQueueWaitMs / 1000, 1),
      lastVerdictAfterSeconds: round((last - started) / 1000, 1),
      describeCallsPerVerification: round(sum(stats.calls) / Math.max(1, published.length), 2),
      verdictAfterStepMs: p50p99(afterStep),
      usage: usageSince(published.length),
      warmupSeconds,
      settings: { ...options, reservedConcurrency: 5, rateLimit },
    };
  } finally {
    await world.close();
  }
}
