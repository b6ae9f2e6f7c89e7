import { readFileSync } from 'node:fs';
import {
  DeregisterTargetsOutput$,
  DescribeListenersOutput$,
  DescribeLoadBalancersOutput$,
  DescribeRulesOutput$,
  DescribeTagsOutput$,
  DescribeTargetGroupsOutput$,
  DescribeTargetHealthOutput$,
  ModifyRuleOutput$,
  RegisterTargetsOutput$,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createManualClock,
  ELBV2_XMLNS,
  type Elbv2Sim,
  elementPaths,
  parseXml,
  startElbv2Sim,
  type XmlElement,
} from '../../sim/elbv2/index.js';

/**
 * The simulator's XML, element by element, against the Sample Responses of the ELBv2 API
 * reference (copies under test/fixtures/elbv2-reference/, each with its source URL) for the same
 * state: every element path of the reference must be there, with the same nesting and namespace.
 * Where the simulator says more than those 2016 examples (ForwardConfig, Order, IpAddressType, …
 * which the API returns today), each extra element must be a member of the service model the SDK
 * ships, so nothing is invented.
 */

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/elbv2-reference/${name}`, import.meta.url), 'utf8');

// ------------------------------------------------------------------ the SDK's service model as element paths

/**
 * Walks a schema of the SDK's generated model (`DescribeRulesOutput$` …): structures
 * `[3, ns, name, traits, memberNames, memberSchemas]`, lists `[1, ns, name, traits, member]`,
 * `64 | n` for lists of scalars, numbers for scalars, thunks for references, `[schema, traits]`
 * for members with traits. ELBv2 has no xmlName traits, so element names are member names.
 */
function modelPaths(schema: unknown, prefix: string, out = new Set<string>(), depth = 0): Set<string> {
  out.add(prefix);
  if (depth > 20) throw new Error(`model too deep at ${prefix}`);
  let s = schema;
  while (typeof s === 'function') s = (s as () => unknown)();
  if (typeof s === 'number') {
    if ((s & 64) === 64) out.add(`${prefix}/member`);
    return out;
  }
  if (!Array.isArray(s)) throw new Error(`unknown schema at ${prefix}`);
  if (s.length === 2) return modelPaths(s[0], prefix, out, depth);
  const [kind] = s;
  if (kind === 3) {
    const names = s[4] as string[];
    const members = s[5] as unknown[];
    names.forEach((name, i) => {
      modelPaths(members[i], `${prefix}/${name}`, out, depth + 1);
    });
    return out;
  }
  if (kind === 1) return modelPaths(s[4], `${prefix}/member`, out, depth + 1);
  throw new Error(`unsupported schema kind ${String(kind)} at ${prefix}`);
}

function responseModel(action: string, output: unknown): Set<string> {
  const root = `${action}Response`;
  const paths = modelPaths(output, `${root}/${action}Result`);
  paths.add(root);
  paths.add(`${root}/ResponseMetadata`);
  paths.add(`${root}/ResponseMetadata/RequestId`);
  return paths;
}

const ERROR_MODEL = new Set([
  'ErrorResponse',
  'ErrorResponse/Error',
  'ErrorResponse/Error/Type',
  'ErrorResponse/Error/Code',
  'ErrorResponse/Error/Message',
  'ErrorResponse/RequestId',
]);

// ------------------------------------------------------------------ comparison

interface Shape {
  root: XmlElement;
  paths: Set<string>;
}

const shape = (xml: string): Shape => {
  const root = parseXml(xml);
  return { root, paths: elementPaths(root) };
};

function expectSameStructure(actual: Shape, reference: Shape, model: Set<string>): void {
  expect(actual.root.name).toBe(reference.root.name);
  expect(actual.root.attributes.xmlns).toBe(reference.root.attributes.xmlns);
  expect(actual.root.attributes.xmlns).toBe(ELBV2_XMLNS);
  const missing = [...reference.paths].filter((path) => !actual.paths.has(path));
  expect(missing, 'elements of the AWS example the simulator does not return').toEqual([]);
  const invented = [...actual.paths].filter((path) => !model.has(path));
  expect(invented, 'elements that are not in the service model').toEqual([]);
}

// ------------------------------------------------------------------ the state of the examples

describe('ELBv2 simulator XML against the API reference examples', () => {
  let sim: Elbv2Sim;
  let lb: string;
  let http: string;
  let https: string;
  let tg: string;
  let rule: string;
  let defaultRule: string;

  /** Posts the sample request's form parameters as the SDK would and returns status and body. */
  const post = async (
    params: Record<string, string>,
  ): Promise<{ status: number; xml: string; type: string }> => {
    const res = await fetch(sim.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Version: '2015-12-01', ...params }),
    });
    return { status: res.status, xml: await res.text(), type: res.headers.get('content-type') ?? '' };
  };

  beforeAll(async () => {
    const clock = createManualClock(Date.parse('2016-03-25T21:26:12.920Z'));
    sim = await startElbv2Sim({ now: clock.now, region: 'us-west-2', rateLimit: false });
    // the examples' account: my-load-balancer with HTTP:80 and HTTPS:443 forwarding to my-targets,
    // a path-pattern rule at priority 10, two healthy instance targets on port 80
    tg = sim.addTargetGroup({ name: 'my-targets', port: 80, targetType: 'instance' });
    lb = sim.addLoadBalancer({
      name: 'my-load-balancer',
      tags: { project: 'lima', department: 'digital-media' },
    });
    const forward = [{ type: 'forward' as const, targetGroups: [{ targetGroupArn: tg, weight: 1 }] }];
    http = sim.addListener(lb, { protocol: 'HTTP', port: 80, defaultActions: forward });
    https = sim.addListener(lb, { protocol: 'HTTPS', port: 443, defaultActions: forward });
    rule = sim.addRule(http, {
      priority: 10,
      conditions: [{ field: 'path-pattern', values: ['/img/*'] }],
      actions: forward,
    });
    defaultRule = sim.account.defaultRuleOf(sim.account.listeners.get(http) ?? fail()).arn;
    sim.registerHealthyTargets(tg, ['i-0f76fade', 'i-0f76fadf'], 80);
  });

  afterAll(async () => {
    await sim.close();
  });

  it('DescribeLoadBalancers: "Describe a load balancer"', async () => {
    const res = await post({ Action: 'DescribeLoadBalancers', 'LoadBalancerArns.member.1': lb });
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/xml');
    expectSameStructure(
      shape(res.xml),
      shape(fixture('describe-load-balancers.xml')),
      responseModel('DescribeLoadBalancers', DescribeLoadBalancersOutput$),
    );
  });

  it('DescribeListeners: "Describe an HTTP listener" and "Describe an HTTPS listener"', async () => {
    const model = responseModel('DescribeListeners', DescribeListenersOutput$);
    const httpRes = await post({ Action: 'DescribeListeners', 'ListenerArns.member.1': http });
    expectSameStructure(shape(httpRes.xml), shape(fixture('describe-listeners-http.xml')), model);
    const httpsRes = await post({ Action: 'DescribeListeners', 'ListenerArns.member.1': https });
    expectSameStructure(shape(httpsRes.xml), shape(fixture('describe-listeners-https.xml')), model);
  });

  it('DescribeRules: "Describe a rule" and "Describe the rules for a listener"', async () => {
    const model = responseModel('DescribeRules', DescribeRulesOutput$);
    const one = await post({ Action: 'DescribeRules', 'RuleArns.member.1': rule });
    expectSameStructure(shape(one.xml), shape(fixture('describe-rules-by-arn.xml')), model);

    const all = await post({ Action: 'DescribeRules', ListenerArn: http });
    const actual = shape(all.xml);
    expectSameStructure(actual, shape(fixture('describe-rules-by-listener.xml')), model);
    // the default rule as in the example: <Conditions/> with no members, Priority "default", last
    const rules = actual.root.children[0]?.children[0]?.children ?? [];
    const last = rules.at(-1);
    const child = (name: string) => last?.children.find((c) => c.name === name);
    expect(child('RuleArn')?.text).toBe(defaultRule);
    expect(child('Priority')?.text).toBe('default');
    expect(child('IsDefault')?.text).toBe('true');
    expect(child('Conditions')?.children).toEqual([]);
  });

  it('DescribeTargetGroups: "Describe a target group"', async () => {
    const res = await post({ Action: 'DescribeTargetGroups', 'TargetGroupArns.member.1': tg });
    expectSameStructure(
      shape(res.xml),
      shape(fixture('describe-target-groups.xml')),
      responseModel('DescribeTargetGroups', DescribeTargetGroupsOutput$),
    );
  });

  it('DescribeTags: "Describe the tags assigned to a load balancer"', async () => {
    const res = await post({ Action: 'DescribeTags', 'ResourceArns.member.1': lb });
    expectSameStructure(
      shape(res.xml),
      shape(fixture('describe-tags.xml')),
      responseModel('DescribeTags', DescribeTagsOutput$),
    );
  });

  it('DescribeTargetHealth: all targets of a group, and one named target (exactly the example elements)', async () => {
    const model = responseModel('DescribeTargetHealth', DescribeTargetHealthOutput$);
    const all = shape((await post({ Action: 'DescribeTargetHealth', TargetGroupArn: tg })).xml);
    const reference = shape(fixture('describe-target-health.xml'));
    expectSameStructure(all, reference, model);
    expect(all.paths).toEqual(reference.paths);

    const one = shape(
      (
        await post({
          Action: 'DescribeTargetHealth',
          TargetGroupArn: tg,
          'Targets.member.1.Id': 'i-0f76fade',
          'Targets.member.1.Port': '80',
        })
      ).xml,
    );
    const oneReference = shape(fixture('describe-target-health-target.xml'));
    expectSameStructure(one, oneReference, model);
    expect(one.paths).toEqual(oneReference.paths);
  });

  it('ModifyRule, RegisterTargets, DeregisterTargets (no sample responses): the service model and the DescribeRules rule shape', async () => {
    const modify = shape(
      (
        await post({
          Action: 'ModifyRule',
          RuleArn: rule,
          'Actions.member.1.Type': 'forward',
          'Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn': tg,
          'Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight': '7',
        })
      ).xml,
    );
    const model = responseModel('ModifyRule', ModifyRuleOutput$);
    expect(modify.root.name).toBe('ModifyRuleResponse');
    expect(modify.root.attributes.xmlns).toBe(ELBV2_XMLNS);
    expect([...modify.paths].filter((p) => !model.has(p))).toEqual([]);
    const describe = shape((await post({ Action: 'DescribeRules', 'RuleArns.member.1': rule })).xml);
    const rulePaths = (s: Shape, action: string) =>
      [...s.paths]
        .filter((p) => p.startsWith(`${action}Response/${action}Result/Rules/member`))
        .map((p) => p.slice(`${action}Response/${action}Result`.length))
        .sort();
    expect(rulePaths(modify, 'ModifyRule')).toEqual(rulePaths(describe, 'DescribeRules'));

    for (const [action, output] of [
      ['RegisterTargets', RegisterTargetsOutput$],
      ['DeregisterTargets', DeregisterTargetsOutput$],
    ] as const) {
      const res = await post({ Action: action, TargetGroupArn: tg, 'Targets.member.1.Id': 'i-0f76fadf' });
      expect(res.status).toBe(200);
      expect(shape(res.xml).paths).toEqual(responseModel(action, output));
    }
  });

  it('errors: the awsQuery ErrorResponse of the Smithy spec, with the status and code of each case', async () => {
    const reference = shape(fixture('error-response.xml'));
    const cases: Array<[Record<string, string>, number, string, (() => void)?]> = [
      [
        { Action: 'DescribeRules', 'RuleArns.member.1': `${rule.slice(0, -16)}ffffffffffffffff` },
        400,
        'RuleNotFound',
      ],
      [{ Action: 'DescribeListeners', 'ListenerArns.member.1': `${http}0` }, 400, 'ListenerNotFound'],
      [{ Action: 'DescribeLoadBalancers', 'Names.member.1': 'nope' }, 400, 'LoadBalancerNotFound'],
      [{ Action: 'DescribeTargetHealth', TargetGroupArn: `${tg}0` }, 400, 'TargetGroupNotFound'],
      [
        {
          Action: 'DescribeTags',
          ...Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`ResourceArns.member.${i + 1}`, lb])),
        },
        400,
        'ValidationError',
      ],
      [{ Action: 'DescribeTargetGroups' }, 403, 'AccessDenied', () => sim.denyAction('DescribeTargetGroups')],
      [
        { Action: 'DescribeLoadBalancers' },
        400,
        'Throttling',
        () => sim.setRateLimit({ burst: 0, refillPerSecond: 0 }),
      ],
    ];
    try {
      for (const [params, status, code, before] of cases) {
        before?.();
        const res = await post(params);
        expect(res.status, code).toBe(status);
        const actual = shape(res.xml);
        expectSameStructure(actual, reference, ERROR_MODEL);
        expect(actual.paths).toEqual(reference.paths);
        const error = actual.root.children.find((c) => c.name === 'Error');
        expect(error?.children.find((c) => c.name === 'Code')?.text).toBe(code);
        expect(error?.children.find((c) => c.name === 'Type')?.text).toBe('Sender');
      }
    } finally {
      sim.allowAction('DescribeTargetGroups');
      sim.setRateLimit(false);
    }
  });
});

describe('the XML reader used for these comparisons', () => {
  it('reads declarations, comments, attributes, self-closing elements and entities', () => {
    const root = parseXml(
      `<?xml version="1.0"?><!-- c --><A xmlns="urn:x" k='v'><B/><C>a &amp; b &lt;c&gt; &#x41;&#66;</C></A>`,
    );
    expect(root.attributes).toEqual({ xmlns: 'urn:x', k: 'v' });
    expect(root.children.map((c) => c.name)).toEqual(['B', 'C']);
    expect(root.children[1]?.text).toBe('a & b <c> AB');
    expect([...elementPaths(root)]).toEqual(['A', 'A/B', 'A/C']);
    expect(() => parseXml('<A><B></A>')).toThrow();
    expect(() => parseXml('<A/><B/>')).toThrow();
  });
});

function fail(): never {
  throw new Error('missing fixture state');
}
