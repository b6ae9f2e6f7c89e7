import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type LoadBalancer,
} from '@aws-sdk/client-elastic-load-balancing-v2';

/**
 * The ELBv2 calls Argo Rollouts makes to verify an ALB step, issued in the same order through the
 * real SDK v3 client, as the baseline. From argoproj/argo-rollouts:
 *
 * - `utils/aws/aws.go` FindLoadBalancerByDNSName: DescribeLoadBalancers pages of
 *   `DefaultAwsLoadBalancerPageSize` (300) until a load balancer's DNSName equals the Ingress
 *   status hostname — a scan of the account's load balancers, on every verification;
 * - GetTargetGroupMetadata: DescribeTargetGroups(LoadBalancerArn), DescribeTags in batches of
 *   20, DescribeListeners(LoadBalancerArn), DescribeRules per listener (forward weights);
 * - the target group verification (VerifyTargetGroupBinding, used before scaling a ReplicaSet
 *   down): DescribeTargetHealth per target group — here for stable and canary, the two groups
 *   the verifier checks.
 *
 * Argo keeps nothing between calls (`rollout/trafficrouting/alb/alb.go` VerifyWeightPerIngress
 * runs it all again on every reconcile), so a steady-state check costs the same as a first one.
 */
export async function argoStyleVerification(
  client: ElasticLoadBalancingV2Client,
  target: { dnsName: string; stableTargetGroupArn: string; canaryTargetGroupArn: string },
): Promise<{ canaryWeights: number[] }> {
  let loadBalancer: LoadBalancer | undefined;
  let marker: string | undefined;
  do {
    const page = await client.send(new DescribeLoadBalancersCommand({ PageSize: 300, Marker: marker }));
    loadBalancer = page.LoadBalancers?.find((candidate) => candidate.DNSName === target.dnsName);
    marker = page.NextMarker;
  } while (!loadBalancer && marker);
  const loadBalancerArn = loadBalancer?.LoadBalancerArn;
  if (!loadBalancerArn) throw new Error(`no load balancer with DNS name ${target.dnsName}`);

  const groups = await client.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: loadBalancerArn }));
  const arns = (groups.TargetGroups ?? []).map((group) => group.TargetGroupArn ?? '');
  for (let i = 0; i < arns.length; i += 20) {
    await client.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
  }
  const listeners = await client.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }));
  const canaryWeights: number[] = [];
  for (const listener of listeners.Listeners ?? []) {
    const rules = await client.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }));
    for (const rule of rules.Rules ?? []) {
      for (const action of rule.Actions ?? []) {
        for (const group of action.ForwardConfig?.TargetGroups ?? []) {
          if (group.TargetGroupArn === target.canaryTargetGroupArn) canaryWeights.push(group.Weight ?? 0);
        }
      }
    }
  }
  for (const arn of [target.stableTargetGroupArn, target.canaryTargetGroupArn]) {
    await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
  }
  return { canaryWeights };
}

export function baselineClient(endpoint: string): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({
    region: 'eu-west-1',
    endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    maxAttempts: 1,
  });
}
