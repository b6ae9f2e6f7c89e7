/** What the lab does not run for real, and why: printed with every run. */
export const STAND_INS = [
  {
    name: 'AWS Load Balancer Controller (lab/standins/load-balancer-controller.ts)',
    why:
      'sigs.k8s.io/aws-load-balancer-controller is not served by the Go module proxy here: every v2.x/v3.x ' +
      'version and commit answers 403 "not available"; only v1.1.9 (2020) is served, and it watches ' +
      "extensions/v1beta1 Ingresses, which Kubernetes 1.22+ no longer serves. The stand-in turns Argo's " +
      "Ingress action annotations into listener rules and registers ready pod IPs on moto's ELBv2 (real SDK calls).",
  },
  {
    name: "Lambda's asynchronous invocation by EventBridge (lab/verifier/deployment.ts)",
    why:
      "moto's EventBridge evaluates the stack's rules but cannot invoke a Lambda function (moto's Lambda needs " +
      'Docker): each rule targets an SQS queue on moto, and a dispatcher invokes the bundled function with the ' +
      'event as delivered, retrying failures as the stack configures.',
  },
  {
    name: 'Lambda Function URL (lab/verifier/deployment.ts)',
    why: 'a loopback HTTP host turns each request into the payload-2.0 event Lambda gives the ingest function.',
  },
  {
    name: 'Ambassador Mapping CRD (lab/argo/controller.ts)',
    why:
      'no module the Go proxy serves here carries Emissary/Ambassador CRDs; the lab generates a minimal ' +
      'CRD (getambassador.io v2 + v3alpha1, open schema) at run time.',
  },
  {
    name: 'EKS (cluster access)',
    why:
      "verify and callback reach the API server through connection secrets in moto's Secrets Manager " +
      '({server, certificateAuthorityData, token}) with static tokens mapped to the groups of deploy/cluster ' +
      'RBAC, not through eks:DescribeCluster and aws-iam-authenticator.',
  },
];
