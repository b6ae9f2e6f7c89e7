import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../../demo/world.js';
import {
  type ConformanceRecord,
  collapse,
  mappingWeights,
  notificationShape,
  type RouteWeights,
  virtualServiceWeights,
} from '../../lab/conformance/shapes.js';
import { type CanaryRollout, type CanaryRolloutOptions, PROMOTE_ANNOTATION } from '../../sim/argo-cluster.js';
import type { CanaryStep } from '../../sim/argo-driver.js';

/**
 * The demo's drivers (sim/argo-cluster.ts: Argo Rollouts and the load balancer controller) against
 * what the real controllers did in the lab (`npm run lab`, then `npm run lab:record-conformance`):
 * for every recorded scenario the drivers can play, the same notification bodies in the same order
 * and the same route states, modulo names, uids, hashes and times. The fast demo stays honest.
 */

const RECORDS_DIR = join(import.meta.dirname, '../fixtures/conformance');
const records: ConformanceRecord[] = readdirSync(RECORDS_DIR)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => JSON.parse(readFileSync(join(RECORDS_DIR, file), 'utf8')) as ConformanceRecord);

/** What the drivers cannot play: subsets, ping-pong, experiments, setCanaryScale, dynamicStableScale. */
function unplayable(record: ConformanceRecord): string | undefined {
  const canary = record.canary;
  const steps = (canary.steps ?? []) as Array<Record<string, unknown>>;
  if (steps.some((step) => !('setWeight' in step) && !('pause' in step)))
    return 'a step other than setWeight or pause';
  if (canary.pingPong) return 'ping-pong';
  if (canary.dynamicStableScale) return 'dynamicStableScale';
  const istio = (canary.trafficRouting as { istio?: { destinationRule?: unknown } } | undefined)?.istio;
  if (istio?.destinationRule) return 'Istio subset-level splitting';
  return undefined;
}

const minor = (version: string) => Number(version.split('.')[1]);

function driverOptions(record: ConformanceRecord, name: string): CanaryRolloutOptions {
  const steps = record.canary.steps as CanaryStep[];
  const base = {
    name,
    replicas: 4,
    steps,
    annotations: record.promoteOnSuccess ? { [PROMOTE_ANNOTATION]: 'true' } : ({} as Record<string, string>),
    controllerBeforeV18: minor(record.argoVersion) < 8,
    ...(record.loadBalancerControllerStopped ? { controller: { throttled: true } } : {}),
  };
  const routing = record.canary.trafficRouting as {
    istio?: { virtualService?: { routes?: string[] } };
  };
  if (record.router === 'istio') {
    const named = routing.istio?.virtualService?.routes;
    return {
      ...base,
      istio: {
        httpRoutes: ['primary'],
        ...(named ? { routes: named } : {}),
        controllerBeforeV19: minor(record.argoVersion) < 9,
      },
    };
  }
  if (record.router === 'ambassador') {
    // argo-rollouts#3593: the real v1.6 loses scheme and namespace; v1.7 and later keep them (lab/FINDINGS.md).
    return { ...base, ambassador: { controllerDropsSchemeAndNamespace: minor(record.argoVersion) < 7 } };
  }
  return base;
}

function routeWeights(
  world: World,
  record: ConformanceRecord,
  rollout: CanaryRollout,
): RouteWeights | undefined {
  const name = rollout.name;
  if (record.router === 'alb') {
    const weights = world.elb.ruleWeights(rollout.alb.ruleArns[0] ?? '', 'desired');
    return {
      canary: weights[rollout.alb.canaryTargetGroupArn] ?? 0,
      stable: weights[rollout.alb.stableTargetGroupArn] ?? 0,
    };
  }
  if (record.router === 'istio') {
    const virtualService = world.kube.object('networking.istio.io/v1', 'virtualservices', 'shop', name);
    return virtualServiceWeights(virtualService?.spec, { stable: name, canary: `${name}-canary` });
  }
  const mappings = world.kube
    .list('mappings', 'shop')
    .map((mapping) => ({ name: String(mapping.metadata.name), spec: mapping.spec }));
  return mappingWeights(mappings, `${name}-mapping`);
}

const pathOf = (routes: readonly RouteWeights[]) =>
  routes.map((route) => `${route.canary}/${route.stable}`).join(' → ');

function isSubsequence(part: readonly RouteWeights[], whole: readonly RouteWeights[]): boolean {
  let at = 0;
  for (const route of whole) {
    if (at < part.length && JSON.stringify(part[at]) === JSON.stringify(route)) at++;
  }
  return at === part.length;
}

const playable = records.filter((record) => !unplayable(record));

describe('the demo’s drivers against the real controllers (lab conformance records)', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ deadlineSeconds: 3 });
  }, 30_000);
  afterAll(async () => {
    await world?.close();
  });

  it('has records to hold the drivers to, of every router', () => {
    expect(records.length).toBeGreaterThan(0);
    expect(new Set(playable.map((record) => record.router))).toEqual(new Set(['alb', 'istio', 'ambassador']));
  });

  playable.forEach((record, index) => {
    it(`${record.scenario}: the same notifications and route states`, async () => {
      const name = `conformance${index}`;
      const rollout = world.canaryRollout(driverOptions(record, name));
      const states: RouteWeights[] = [];
      const sample = () => {
        const weights = routeWeights(world, record, rollout);
        if (weights) states.push(weights);
      };
      sample();
      const sampler = setInterval(sample, 5);
      try {
        await world.settle();
      } finally {
        clearInterval(sampler);
        sample();
      }
      const bodies = world.notificationsFor(rollout.key).map(notificationShape);
      expect(collapse(bodies)).toEqual(record.notifications);
      // The lab samples the routes once a second and may miss a state the controller holds for less
      // (canary 100 between the last step and the stable switch): every state it saw, in its order,
      // from the same first to the same last.
      const seen = collapse(states);
      expect(isSubsequence(record.routes, seen), `lab ${pathOf(record.routes)}, demo ${pathOf(seen)}`).toBe(
        true,
      );
      expect([seen[0], seen.at(-1)]).toEqual([record.routes[0], record.routes.at(-1)]);
    }, 60_000);
  });
});
