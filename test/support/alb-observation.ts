import type { Observation } from '../../lambdas/core/observation.js';

/** What an ALB router sees of a rollout whose listener rule sends `canary` % to a healthy canary. */
export function healthyAlbObservation(canary: number, rule = 'k8s'): Observation {
  return {
    router: 'alb',
    routes: [
      {
        resource: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/${rule}/1/l/r`,
        description: 'listener-rule priority 1 on HTTP:80',
        destinations: [
          { resource: 'tg-canary', role: 'canary', weight: canary },
          { resource: 'tg-stable', role: 'stable', weight: 100 - canary },
        ],
      },
    ],
    backends: [
      { resource: 'tg-canary', role: 'canary', targets: [{ id: '10.0.0.1', port: 8080, state: 'healthy' }] },
      { resource: 'tg-stable', role: 'stable', targets: [{ id: '10.0.0.2', port: 8080, state: 'healthy' }] },
    ],
    problems: [],
  };
}
