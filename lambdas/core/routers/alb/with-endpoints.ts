import { ClusterNotConfiguredError } from '../../cluster/cluster-apis.js';
import { readServiceEndpoints } from '../../cluster/endpoints.js';
import type { KubeApiForCluster } from '../../cluster/kube-api.js';
import { findingFromKubeError } from '../../cluster/kube-findings.js';
import type { Observation, ObservedServiceEndpoints, TargetObserver } from '../../observation.js';
import type { AlbObservationTarget } from './router.js';

/**
 * The ALB router plus the EndpointSlices of the stable and canary Services, so the judge can
 * compare IP-mode registrations with the pods that are really ready. Used when the verifier may
 * read the cluster; without it, weights and target health are still checked.
 */
export function withServiceEndpoints(
  router: TargetObserver<AlbObservationTarget>,
  kubeFor: KubeApiForCluster,
): TargetObserver<AlbObservationTarget> {
  return {
    invalidate: router.invalidate?.bind(router),
    async observe(target, signal, options): Promise<Observation> {
      // One after the other: the ELBv2 reads may wait for the Describe budget's tokens, and the
      // pods compared with the registrations must be read after them, not seconds before, or a
      // registration the controller has already moved reads as a stale one.
      const observation = await router.observe(target, signal, options);
      const endpoints = await observeEndpoints(kubeFor, target, signal);
      return {
        ...observation,
        endpoints: endpoints.flatMap((result) => ('endpoints' in result ? [result.endpoints] : [])),
        problems: [
          ...observation.problems,
          ...endpoints.flatMap((result) => ('problem' in result ? [result.problem] : [])),
        ],
      };
    },
  };
}

type EndpointsResult =
  | { endpoints: ObservedServiceEndpoints }
  | { problem: Observation['problems'][number] }
  | { skipped: string };

async function observeEndpoints(
  kubeFor: KubeApiForCluster,
  target: AlbObservationTarget,
  signal?: AbortSignal,
): Promise<EndpointsResult[]> {
  const { namespace, traffic } = target;
  const services = [
    { role: 'stable' as const, service: traffic.stableService },
    { role: 'canary' as const, service: traffic.canaryService },
  ];
  return Promise.all(
    services.map(async ({ role, service }): Promise<EndpointsResult> => {
      const resource = `service/${namespace}/${service}`;
      try {
        const api = await kubeFor(target.cluster);
        const { ready, notReady } = await readServiceEndpoints(api, namespace, service, {
          servicePort: traffic.servicePort,
          signal,
        });
        return { endpoints: { resource, role, ready, notReady } };
      } catch (error) {
        // Cut short by the deadline too: a finding (Throttled when 429s were being waited out), so the
        // load balancer's half of the observation is not lost with it.
        // A cluster the verifier was not given access to: check weights and health only.
        if (error instanceof ClusterNotConfiguredError) return { skipped: error.message };
        return { problem: findingFromKubeError(error, resource) };
      }
    }),
  );
}
