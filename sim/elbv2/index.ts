/**
 * An ELBv2 (Application Load Balancer) simulator on loopback that speaks the awsQuery protocol
 * (API version 2015-12-01) well enough for the real `@aws-sdk/client-elastic-load-balancing-v2`
 * client, pointed at `sim.endpoint`, to work unmodified.
 *
 * ```ts
 * const clock = createManualClock();
 * const sim = await startElbv2Sim({ now: clock.now, propagationDelayMs: 2_000 });
 * const alb = sim.addIngressAlb({ cluster: 'prod', namespace: 'shop', ingress: 'web',
 *   stableService: 'web-stable', canaryService: 'web-canary', servicePort: 80,
 *   listeners: ['HTTP:80', 'HTTPS:443'], canaryWeight: 20, targets: { stable: 3, canary: 1 } });
 * const client = new ElasticLoadBalancingV2Client({ region: sim.region, endpoint: sim.endpoint,
 *   credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
 * sim.setRuleWeights(alb.ruleArns[0], { [alb.stableTargetGroupArn]: 50, [alb.canaryTargetGroupArn]: 50 });
 * clock.advance(2_000); // now DescribeRules shows 50/50
 * await sim.close();
 * ```
 */
export { createManualClock, type ManualClock, type Now } from './clock.js';
export { SimError } from './errors.js';
export { isDescribeAction, type SimAction, SUPPORTED_ACTIONS } from './handlers.js';
export {
  controllerLoadBalancerName,
  type IngressAlb,
  type IngressAlbListener,
  type IngressAlbSpec,
  targetGroupResourceTag,
  type UnrelatedLoadBalancersOptions,
} from './ingress.js';
export type {
  ActionSpec,
  ConditionSpec,
  ElbAccount,
  ForwardActionSpec,
  ListenerSpec,
  LoadBalancerSpec,
  RuleSpec,
  TargetGroupSpec,
  TargetHealthReason,
  TargetHealthStateName,
  TargetSpec,
  UnhealthyReason,
} from './model.js';
export {
  type Elbv2Sim,
  type Elbv2SimOptions,
  type InjectedError,
  type RateLimit,
  type SimStats,
  startElbv2Sim,
} from './server.js';
export { ELBV2_XMLNS, elementPaths, parseXml, type XmlElement } from './xml.js';
