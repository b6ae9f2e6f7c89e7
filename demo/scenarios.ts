import type { Verdict } from '../lambdas/core/contracts/verdict-event.js';
import { BlueGreenRolloutDriver, CanaryRolloutDriver, type CanaryStep } from '../test/support/argo-driver.js';
import type { IngressAlb } from '../test/support/elbv2-sim/index.js';
import { DEMO_CLUSTER, type World } from './world.js';

export interface Scenario {
  name: string;
  rollout: string;
  /** The verdicts the pipeline must reach, in order. */
  expected: Verdict[];
  /** What the finding codes of the last verdict must include. */
  expectedFindings?: string[];
  run(world: World): Promise<void>;
}

const REPLICAS = 4;
const canarySteps: CanaryStep[] = [
  { setWeight: 20 },
  { pause: {} },
  { setWeight: 50 },
  { pause: {} },
  { setWeight: 100 },
];

/** The AWS Load Balancer Controller's part: write the weights Argo asked for to every listener rule. */
function applyWeights(world: World, alb: IngressAlb, canaryWeight: number): void {
  for (const ruleArn of alb.ruleArns) {
    world.elb.setRuleWeights(ruleArn, {
      [alb.canaryTargetGroupArn]: canaryWeight,
      [alb.stableTargetGroupArn]: 100 - canaryWeight,
    });
  }
}

function canaryWorld(world: World, name: string) {
  const spec = {
    namespace: 'shop',
    name,
    replicas: REPLICAS,
    steps: canarySteps,
    ingress: name,
    stableService: name,
    canaryService: `${name}-canary`,
  };
  const alb = world.elb.addIngressAlb({
    cluster: DEMO_CLUSTER,
    namespace: spec.namespace,
    ingress: spec.ingress,
    stableService: spec.stableService,
    canaryService: spec.canaryService,
    servicePort: 80,
    listeners: ['HTTP:80', 'HTTPS:443'],
    canaryWeight: 0,
    targets: { stable: REPLICAS, canary: 0 },
  });
  return { argo: new CanaryRolloutDriver(spec), alb };
}

/** The canary ReplicaSet scaled for `weight`, its pods registered and passing health checks. */
function scaleCanary(world: World, alb: IngressAlb, weight: number, registered: number): number {
  const wanted = Math.ceil((REPLICAS * weight) / 100);
  if (wanted > registered) world.elb.registerHealthyTargets(alb.canaryTargetGroupArn, wanted - registered);
  return Math.max(wanted, registered);
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'healthy canary 20 → 50 → 100',
    rollout: 'shop/checkout',
    expected: ['Succeeded', 'Succeeded', 'Succeeded'],
    async run(world) {
      const { argo, alb } = canaryWorld(world, 'checkout');
      let registered = 0;
      for (const index of [0, 2, 4]) {
        const weight = argo.weightAt(index);
        registered = scaleCanary(world, alb, weight, registered);
        applyWeights(world, alb, weight);
        world.note(
          'shop/checkout',
          `load balancer controller: listener rules at canary ${weight} / stable ${100 - weight}`,
        );
        await world.notify(argo.stepCompleted(index));
        await world.settle();
      }
    },
  },
  {
    name: 'weights never applied (controller throttled)',
    rollout: 'shop/cart',
    expected: ['Failed'],
    expectedFindings: ['WeightMismatch'],
    async run(world) {
      const { argo, alb } = canaryWorld(world, 'cart');
      scaleCanary(world, alb, 20, 0);
      world.note(
        'shop/cart',
        'load balancer controller: throttled, listener rules stay at canary 0 / stable 100',
      );
      await world.notify(argo.stepCompleted(0));
      await world.settle();
    },
  },
  {
    name: 'unhealthy canary targets',
    rollout: 'shop/search',
    expected: ['Failed'],
    expectedFindings: ['UnhealthyTargets'],
    async run(world) {
      const { argo, alb } = canaryWorld(world, 'search');
      const [pod] = world.elb.registerHealthyTargets(alb.canaryTargetGroupArn, 1);
      applyWeights(world, alb, 20);
      world.elb.failHealthChecks(alb.canaryTargetGroupArn, pod!, 'Target.ResponseCodeMismatch', '503');
      world.note('shop/search', `canary pod ${pod} answers health checks with 503`);
      await world.notify(argo.stepCompleted(0));
      await world.settle();
    },
  },
  {
    name: 'AccessDenied → Inconclusive, never Failed',
    rollout: 'shop/payments',
    expected: ['Inconclusive'],
    expectedFindings: ['AccessDenied'],
    async run(world) {
      const { argo, alb } = canaryWorld(world, 'payments');
      scaleCanary(world, alb, 20, 0);
      applyWeights(world, alb, 20);
      world.elb.denyAction('DescribeTargetHealth');
      world.note('shop/payments', 'IAM: the verifier role lost elasticloadbalancing:DescribeTargetHealth');
      try {
        await world.notify(argo.stepCompleted(0));
        await world.settle();
      } finally {
        world.elb.allowAction('DescribeTargetHealth');
      }
    },
  },
  {
    name: "a stranger's POST → 401, nothing published",
    rollout: 'shop/ledger',
    expected: [],
    async run(world) {
      const { argo } = canaryWorld(world, 'ledger');
      const answer = await world.notify(argo.stepCompleted(0), { token: 'guessed-token-0123456789abcdef' });
      await world.settle();
      if (answer.statusCode !== 401 || answer.published) {
        throw new Error(`ingest answered ${answer.statusCode} to a wrong token`);
      }
    },
  },
  {
    name: 'blue-green switch',
    rollout: 'shop/profile',
    expected: ['Succeeded'],
    async run(world) {
      const argo = new BlueGreenRolloutDriver({
        namespace: 'shop',
        name: 'profile',
        replicas: REPLICAS,
        activeService: 'profile',
        previewService: 'profile-preview',
        ingress: 'profile',
      });
      const alb = world.elb.addIngressAlb({
        cluster: DEMO_CLUSTER,
        namespace: 'shop',
        ingress: 'profile',
        stableService: 'profile',
        canaryService: 'profile-preview',
        servicePort: 80,
        canaryWeight: 0,
        targets: { stable: REPLICAS, canary: 0 },
      });
      // Promotion: the active Service now selects the new ReplicaSet; its pods replace the old ones.
      world.elb.deregisterTargets(
        alb.stableTargetGroupArn,
        alb.stableTargetIds.map((id) => ({ id, port: 8080 })),
      );
      world.elb.registerHealthyTargets(alb.stableTargetGroupArn, REPLICAS);
      world.note(
        'shop/profile',
        `promotion: ${REPLICAS} new pods behind the active Service, the old ones draining`,
      );
      await world.notify(argo.completed());
      await world.settle();
    },
  },
];
