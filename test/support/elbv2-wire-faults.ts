import { RESULT_LIST } from '../../lambdas/core/routers/alb/elb-api.js';
import { ELBV2_XMLNS } from '../../sim/elbv2/xml.js';
import type { Fault, ProxiedRequest } from './fault-proxy.js';
import { isTransportFault, TRANSPORT_FAULTS, transportFault } from './wire-faults.js';

/**
 * What can go wrong on the wire between the verifier and ELBv2, as fault-proxy faults, and the
 * calls the verifier makes, as request matchers. awsQuery requests are form-encoded POSTs: the
 * action and its parameters are in the body.
 */

export interface Elbv2Call {
  /** e.g. `DescribeRules (by listener)`. */
  name: string;
  action: string;
  /** Made only while discovering the topology (cached afterwards). */
  discovery: boolean;
  match: (request: ProxiedRequest) => boolean;
}

const params = (request: ProxiedRequest) => new URLSearchParams(request.body);

function call(
  name: string,
  action: string,
  discovery: boolean,
  also: (query: URLSearchParams) => boolean = () => true,
): Elbv2Call {
  return {
    name,
    action,
    discovery,
    match: (request) => {
      const query = params(request);
      return query.get('Action') === action && also(query);
    },
  };
}

/** Every ELBv2 call the verifier makes, split where one action serves two purposes. */
export const VERIFIER_ELBV2_CALLS: readonly Elbv2Call[] = [
  call('DescribeLoadBalancers', 'DescribeLoadBalancers', true),
  call('DescribeTargetGroups', 'DescribeTargetGroups', true),
  call('DescribeTags', 'DescribeTags', true),
  call('DescribeListeners', 'DescribeListeners', true),
  call('DescribeRules (by listener)', 'DescribeRules', true, (query) => query.has('ListenerArn')),
  call('DescribeRules (by rule ARN)', 'DescribeRules', false, (query) => query.has('RuleArns.member.1')),
  call('DescribeTargetHealth', 'DescribeTargetHealth', false),
];

export const ELBV2_WIRE_FAULTS = [
  ...TRANSPORT_FAULTS,
  'throttling',
  'result without its list',
  'result element absent',
  'truncated XML',
] as const;
export type Elbv2WireFault = (typeof ELBV2_WIRE_FAULTS)[number];

const element = (name: string) => new RegExp(`<${name}(?:\\s*/>|>[\\s\\S]*?</${name}>)`);

/** The fault for one action; `rewrite` faults change ELBv2's real answer. */
export function elbv2WireFault(fault: Elbv2WireFault, action: string): Fault {
  if (isTransportFault(fault)) return transportFault(fault);
  switch (fault) {
    case 'throttling':
      return {
        kind: 'respond',
        status: 400,
        contentType: 'text/xml',
        body: `<ErrorResponse xmlns="${ELBV2_XMLNS}"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>0b5a2f8e-throttled</RequestId></ErrorResponse>`,
      };
    case 'result without its list':
      return { kind: 'rewrite', body: (body) => body.replace(element(RESULT_LIST[action] ?? '-'), '') };
    case 'result element absent':
      return { kind: 'rewrite', body: (body) => body.replace(element(`${action}Result`), '') };
    case 'truncated XML':
      return { kind: 'rewrite', body: (body) => body.slice(0, Math.floor(body.length / 2)) };
  }
}
