import { randomBytes } from 'node:crypto';

/** Who calls the lab's API server, each with a static bearer token (kube-apiserver --token-auth-file). */
export interface KubeIdentity {
  user: string;
  groups: string[];
  token: string;
}

const identity = (user: string, groups: string[]): KubeIdentity => ({
  user,
  groups,
  token: randomBytes(24).toString('hex'),
});

/**
 * The control plane's own components and the controllers run as cluster admins (system:masters):
 * the lab is not testing their RBAC. The verifier's two functions get exactly the groups the
 * stack's EKS access entries map their roles to, and nothing else: their rights come from the
 * project's deploy/cluster ClusterRoles and bindings, applied to this API server.
 */
export function labIdentities() {
  return {
    admin: identity('lab-admin', ['system:masters']),
    controllerManager: identity('lab:kube-controller-manager', ['system:masters']),
    scheduler: identity('lab:kube-scheduler', ['system:masters']),
    kwok: identity('lab:kwok', ['system:masters']),
    argoRollouts: identity('lab:argo-rollouts', ['system:masters']),
    loadBalancerController: identity('lab:load-balancer-controller-stand-in', ['system:masters']),
    verify: identity('rollout-verifier-verify', ['rollout-verifier-observer']),
    callback: identity('rollout-verifier-callback', ['rollout-verifier']),
  };
}
export type LabIdentities = ReturnType<typeof labIdentities>;

export function tokenAuthFile(identities: LabIdentities): string {
  return `${Object.values(identities)
    .map((who) => `${who.token},${who.user},${who.user},"${who.groups.join(',')}"`)
    .join('\n')}\n`;
}

/** A kubeconfig for a Go component: the server, the lab CA, one identity's token. */
export function kubeconfig(server: string, caPem: string, who: KubeIdentity): string {
  const ca = Buffer.from(caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: lab\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${ca}`,
    'users:',
    `- name: ${who.user}\n  user:\n    token: ${who.token}`,
    'contexts:',
    `- name: lab\n  context:\n    cluster: lab\n    user: ${who.user}`,
    'current-context: lab',
    '',
  ].join('\n');
}
