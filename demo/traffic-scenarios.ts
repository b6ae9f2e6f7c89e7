import type { Scenario } from './scenarios.js';

/**
 * The traffic look (docs/traffic-observed.md): after a step's weights were verified, what the ALB
 * really served over the step's window, from CloudWatch. Report only: the callback never acts on
 * it, so every rollout here stays paused at its step, untouched.
 */
const STEPS = [{ setWeight: 20 }, { pause: {} }];
const REPLICAS = 4;

export const TRAFFIC_SCENARIOS: Scenario[] = [
  {
    name: 'traffic look: the ALB served the configured 20 % → Succeeded',
    rollout: 'shop/gifts',
    // updated, setWeight 20, the pause; the traffic look follows the pause's verdict
    expected: ['Succeeded', 'Succeeded', 'Succeeded'],
    expectedActions: [],
    expectedTraffic: ['Succeeded'],
    async run(world) {
      world.serveTraffic('shop/gifts', {
        requestsPerMinute: 600,
        canary5xxRate: 0.002,
        stable5xxRate: 0.002,
        canaryLatencySeconds: 0.05,
        stableLatencySeconds: 0.05,
      });
      world.canaryRollout({ name: 'gifts', replicas: REPLICAS, steps: STEPS });
      await world.settle();
    },
  },
  {
    name: 'traffic look: sticky sessions keep 45 % on the canary at weight 20 → Failed, reported, not aborted',
    rollout: 'shop/wardrobe',
    // updated, setWeight 20, the pause; the traffic look follows the pause's verdict
    expected: ['Succeeded', 'Succeeded', 'Succeeded'],
    expectedActions: [],
    expectedTraffic: ['Failed'],
    expectedTrafficFindings: ['ObservedSplitMismatch'],
    async run(world) {
      world.note(
        'shop/wardrobe',
        'the target groups have stickiness on: returning clients stay on the canary',
      );
      world.serveTraffic('shop/wardrobe', { requestsPerMinute: 600, servedCanaryShare: () => 0.45 });
      world.canaryRollout({ name: 'wardrobe', replicas: REPLICAS, steps: STEPS });
      await world.settle();
    },
  },
  {
    name: 'traffic look: a quiet step (3 requests a minute) → Inconclusive',
    rollout: 'shop/returns',
    // updated, setWeight 20, the pause; the traffic look follows the pause's verdict
    expected: ['Succeeded', 'Succeeded', 'Succeeded'],
    expectedActions: [],
    expectedTraffic: ['Inconclusive'],
    expectedTrafficFindings: ['InsufficientTraffic'],
    async run(world) {
      world.serveTraffic('shop/returns', { requestsPerMinute: 3 });
      world.canaryRollout({ name: 'returns', replicas: REPLICAS, steps: STEPS });
      await world.settle();
    },
  },
];
