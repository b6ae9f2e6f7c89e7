import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import { CfnAccessEntry } from 'aws-cdk-lib/aws-eks';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CLUSTER_NAMES, CLUSTER_SECRET_ARNS } from '../contract/environment.js';

export interface ClusterAccessProps {
  readonly clusterNames: readonly string[];
  /** The role that calls the Kubernetes API. */
  readonly role: IRole;
  /** The group the project's RBAC Role is bound to. */
  readonly kubernetesGroup: string;
}

/**
 * Lets one function role into the named clusters: `eks:DescribeCluster` (endpoint and CA for the
 * token-authenticated client) and an access entry mapping the role to a Kubernetes group. No
 * access policy: EKS's managed policies do not cover argoproj.io, so permissions come from the
 * project's own RBAC Role bound to the group (deploy/cluster).
 */
export class ClusterAccess extends Construct {
  readonly accessEntries: CfnAccessEntry[];

  constructor(scope: Construct, id: string, props: ClusterAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Endpoint and certificate authority of the named clusters only, to build a Kubernetes client.
    props.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DescribeNamedClusters',
        actions: ['eks:DescribeCluster'],
        resources: props.clusterNames.map((clusterName) =>
          stack.formatArn({
            service: 'eks',
            resource: 'cluster',
            resourceName: clusterName,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        ),
      }),
    );
    this.accessEntries = props.clusterNames.map(
      (clusterName, index) =>
        new CfnAccessEntry(this, Token.isUnresolved(clusterName) ? `Cluster${index}` : clusterName, {
          clusterName,
          principalArn: props.role.roleArn,
          type: 'STANDARD',
          kubernetesGroups: [props.kubernetesGroup],
        }),
    );
  }
}

/** The cluster settings the verify and callback functions read (lambdas/shared/clusters.ts). */
export function clusterEnvironment(
  scope: Construct,
  settings: {
    readonly clusterNames: readonly string[];
    readonly clusterSecrets: Readonly<Record<string, string>>;
  },
): Record<string, string> {
  const environment: Record<string, string> = { [CLUSTER_NAMES]: settings.clusterNames.join(',') };
  if (Object.keys(settings.clusterSecrets).length > 0) {
    // toJsonString: ARNs that are tokens (a secret from another stack) resolve inside the JSON at deploy time.
    environment[CLUSTER_SECRET_ARNS] = Stack.of(scope).toJsonString(settings.clusterSecrets);
  }
  return environment;
}

/** Non-EKS clusters: read their connection secrets (server, CA, token), and nothing else. */
export function grantClusterSecrets(role: IRole, clusterSecrets: Readonly<Record<string, string>>): void {
  const arns = Object.values(clusterSecrets);
  if (arns.length === 0) return;
  role.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'ReadClusterConnectionSecrets',
      actions: ['secretsmanager:GetSecretValue'],
      resources: arns,
    }),
  );
}
