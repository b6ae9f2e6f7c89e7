import type { Fault, ProxiedRequest } from '../fault-proxy.js';
import { ELBV2_XMLNS } from './xml.js';

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
  'hang',
  'connection reset',
  'HTTP 503 page',
  'throttling',
  'HTML 200',
  'result without its list',
  'result element absent',
  'truncated XML',
] as const;
export type Elbv2WireFault = (typeof ELBV2_WIRE_FAULTS)[number];

/** The list element each action's result always carries (`<Rules/>` when empty). */
const RESULT_LIST: Readonly<Record<string, string>> = {
  DescribeLoadBalancers: 'LoadBalancers',
  DescribeListeners: 'Listeners',
  DescribeRules: 'Rules',
  DescribeTargetGroups: 'TargetGroups',
  DescribeTags: 'TagDescriptions',
  DescribeTargetHealth: 'TargetHealthDescriptions',
};

const element = (name: string) => new RegExp(`<${name}(?:\\s*/>|>[\\s\\S]*?</${name}>)`);

/** The fault for one action; `rewrite` faults change ELBv2's real answer. */
export function elbv2WireFault(fault: Elbv2WireFault, action: string): Fault {
  switch (fault) {
    case 'hang':
      return { kind: 'hang' };
    case 'connection reset':
      return { kind: 'reset' };
    case 'HTTP 503 page':
      return {
        kind: 'respond',
        status: 503,
        body: '<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>',
      };
    case 'throttling':
      return {
        kind: 'respond',
        status: 400,
        contentType: 'text/xml',
        body: `<ErrorResponse xmlns="${ELBV2_XMLNS}"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>0b5a2f8e-throttled</RequestId></ErrorResponse>`,
      };
    case 'HTML 200':
      return {
        kind: 'respond',
        status: 200,
        body: '<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action="/login"></form></body></html>',
      };
    case 'result without its list':
      return { kind: 'rewrite', body: (body) => body.replace(element(RESULT_LIST[action] ?? '-'), '') };
    case 'result element absent':
      return { kind: 'rewrite', body: (body) => body.replace(element(`${action}Result`), '') };
    case 'truncated XML':
      return { kind: 'rewrite', body: (body) => body.slice(0, Math.floor(body.length / 2)) };
  }
}

/** The finding code each fault must end as, when it lasts until the deadline. */
export function expectedFindingCode(
  fault: Elbv2WireFault,
): 'ObservationError' | 'Throttled' | 'MalformedResponse' {
  switch (fault) {
    case 'hang':
    case 'connection reset':
    case 'HTTP 503 page':
      return 'ObservationError';
    case 'throttling':
      return 'Throttled';
    default:
      return 'MalformedResponse';
  }
}
