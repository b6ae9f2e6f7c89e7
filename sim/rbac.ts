import type { RequestAttributes } from './kube/status.js';
import type { Manifest, PolicyRule } from './kustomize.js';

/**
 * Kubernetes RBAC authorization (rbac.authorization.k8s.io/v1) over a set of manifests, as the
 * API server's RBAC authorizer decides a resource request: allowed when a ClusterRoleBinding, or a
 * RoleBinding in the request's namespace, binds one of the user's groups (or the user) to a role
 * with a rule matching the API group, the resource (with `/subresource`), the verb and, when the
 * rule names any, the object's name. Deny-by-default; `*` matches anything.
 */

/** What kube-sim knows of a request (its user optional here), and the user's groups. */
export type AccessRequest = Omit<RequestAttributes, 'user'> & { user?: string; groups: readonly string[] };

const matches = (values: readonly string[] | undefined, wanted: string) =>
  (values ?? []).some((value) => value === '*' || value === wanted);

function ruleAllows(rule: PolicyRule, request: AccessRequest): boolean {
  const resource = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  return (
    matches(rule.apiGroups, request.group) &&
    matches(rule.resources, resource) &&
    matches(rule.verbs, request.verb) &&
    (rule.resourceNames === undefined ||
      (request.name !== undefined && rule.resourceNames.includes(request.name)))
  );
}

export function rbacAuthorizer(manifests: readonly Manifest[]): (request: AccessRequest) => boolean {
  const role = (kind: string, name: string, namespace?: string) =>
    manifests.find(
      (manifest) =>
        manifest.kind === kind &&
        manifest.metadata.name === name &&
        (kind === 'ClusterRole' || manifest.metadata.namespace === namespace),
    );
  return (request) =>
    manifests.some((binding) => {
      if (binding.kind === 'RoleBinding') {
        if (binding.metadata.namespace === undefined || binding.metadata.namespace !== request.namespace)
          return false;
      } else if (binding.kind !== 'ClusterRoleBinding') return false;
      const bound = (binding.subjects ?? []).some(
        (subject) =>
          (subject.kind === 'Group' && request.groups.includes(subject.name)) ||
          (subject.kind === 'User' && subject.name === request.user),
      );
      if (!bound || !binding.roleRef) return false;
      // A ClusterRoleBinding may only reference a ClusterRole; a RoleBinding either kind.
      if (binding.kind === 'ClusterRoleBinding' && binding.roleRef.kind !== 'ClusterRole') return false;
      const granted = role(binding.roleRef.kind, binding.roleRef.name, binding.metadata.namespace);
      return (granted?.rules ?? []).some((rule) => ruleAllows(rule, request));
    });
}

/** A role's rules as `group/resource:verb` grants (core group ''), sorted: order and grouping do not matter. */
export function grantsOf(rules: readonly PolicyRule[]): string[] {
  return rules
    .flatMap((rule) =>
      (rule.apiGroups ?? []).flatMap((group) =>
        (rule.resources ?? []).flatMap((resource) =>
          rule.verbs.map((verb) => `${group}/${resource}:${verb}`),
        ),
      ),
    )
    .sort();
}
