import { describe, expect, it } from 'vitest';
import { minimalAmbassadorMappingCrd } from '../../../lab/argo/controller.js';
import { STAND_INS } from '../../../lab/stand-ins.js';
import { LoadBalancerControllerStandIn } from '../../../lab/standins/load-balancer-controller.js';
import { ingressLoadBalancerName } from '../../../lambdas/core/routers/alb/naming.js';

describe('lab stand-ins', () => {
  it('names load balancers as the verifier expects the controller to (so discovery is one call)', () => {
    for (const scheme of ['internet-facing', 'internal'] as const) {
      expect(LoadBalancerControllerStandIn.loadBalancerName('lab', 'alb-canary-191', 'web', scheme)).toBe(
        ingressLoadBalancerName('lab', 'alb-canary-191', 'web', scheme),
      );
    }
  });

  it('generates a Mapping CRD for the versions Argo writes and the verifier reads', () => {
    const crd = minimalAmbassadorMappingCrd();
    const versions = (crd.spec?.versions ?? []) as Array<{ name: string; storage: boolean }>;
    expect(versions.map((version) => version.name)).toEqual(['v2', 'v3alpha1']);
    expect(versions.filter((version) => version.storage)).toHaveLength(1);
  });

  it('names every stand-in with the reason it stands in', () => {
    for (const standIn of STAND_INS) expect(standIn.why.length).toBeGreaterThan(40);
  });
});
