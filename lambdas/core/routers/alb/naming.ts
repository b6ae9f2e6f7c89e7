import { createHash } from 'node:crypto';

/**
 * Names the AWS Load Balancer Controller gives what it creates for an Ingress, so the verifier
 * can ask for one load balancer by name instead of paging every load balancer in the account.
 * Mirrors the controller's model builder: sanitize to alphanumerics, truncate, and a sha256 of
 * the cluster, the ingress group id and the scheme.
 */

export const LOAD_BALANCER_SCHEMES = ['internet-facing', 'internal'] as const;
export type LoadBalancerScheme = (typeof LOAD_BALANCER_SCHEMES)[number];

const sanitize = (value: string) => value.replace(/[^A-Za-z0-9]/g, '');

/** The name of the load balancer of an Ingress that is not in an explicit IngressGroup. */
export function ingressLoadBalancerName(
  cluster: string,
  namespace: string,
  ingress: string,
  scheme: LoadBalancerScheme,
): string {
  const hash = createHash('sha256')
    .update(cluster)
    .update(`${namespace}/${ingress}`)
    .update(scheme)
    .digest('hex');
  return `k8s-${sanitize(namespace).slice(0, 8)}-${sanitize(ingress).slice(0, 8)}-${hash.slice(0, 10)}`;
}

/** Target group names start with the namespace and service; the rest is a hash of settings we cannot see. */
export function targetGroupNamePrefix(namespace: string, service: string): string {
  return `k8s-${sanitize(namespace).slice(0, 8)}-${sanitize(service).slice(0, 8)}-`;
}

/** The controller tags each target group with the Ingress backend it serves (EKS Auto Mode uses its own key). */
export const TARGET_GROUP_RESOURCE_TAGS = ['ingress.k8s.aws/resource', 'ingress.eks.amazonaws.com/resource'];
export const CLUSTER_TAGS = ['elbv2.k8s.aws/cluster', 'eks:eks-cluster-name'];

export function targetGroupResourceId(
  namespace: string,
  ingress: string,
  service: string,
  port: number,
): string {
  return `${namespace}/${ingress}-${service}:${port}`;
}

/** The load balancer name inside its ARN: `…:loadbalancer/app/<name>/<id>`. */
export function loadBalancerNameFromArn(arn: string): string {
  return arn.split('/').at(-2) ?? arn;
}
