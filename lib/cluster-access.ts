import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import { CfnAccessEntry } from 'aws-cdk-lib/aws-eks';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

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
