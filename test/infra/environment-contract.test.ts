import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { afterAll, describe, expect, test } from 'vitest';
import { COMMON_VARIABLES, FUNCTION_VARIABLES } from '../../contract/environment.js';
import { CallbackEnvironment } from '../../lambdas/callback/settings.js';
import { GateEnvironment } from '../../lambdas/gate/settings.js';
import { HistoryEnvironment } from '../../lambdas/history/settings.js';
import { IngestEnvironment } from '../../lambdas/ingest/settings.js';
import { SentinelEnvironment } from '../../lambdas/sentinel/settings.js';
import { TrafficEnvironment } from '../../lambdas/traffic/settings.js';
import { VerifyEnvironment } from '../../lambdas/verify/settings.js';
import type { VerifierFunction } from '../../lib/verifier-function.js';
import { cleanup, resourcesOfType, type Synthesized, synth } from './helpers.js';

/**
 * contract/environment.ts against both sides: each function's settings reader accepts exactly the
 * names the contract lists for it, and the construct sets exactly the contract's `set` names (over
 * the configurations that set each of them), plus the Powertools ones, and nothing the reader does
 * not know.
 */

afterAll(cleanup);

const readers = {
  verify: VerifyEnvironment,
  callback: CallbackEnvironment,
  ingest: IngestEnvironment,
  traffic: TrafficEnvironment,
  history: HistoryEnvironment,
  gate: GateEnvironment,
  sentinel: SentinelEnvironment,
} as const;
type FunctionName = keyof typeof readers;

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:onprem-AbCdEf';

/** Between them, every variable the construct can set: clusters of both kinds, an allow-list, and none. */
const configurations: Synthesized[] = [
  synth({
    clusterName: 'prod',
    clusterSecrets: { onprem: SECRET },
    ingest: { allowedSourceCidrs: ['203.0.113.0/24'] },
  }),
  synth({}),
];

function variablesOf(synthesized: Synthesized, fn: VerifierFunction | undefined): string[] {
  if (!fn) throw new Error('function not created');
  const logicalId = synthesized.stack.getLogicalId(fn.function.node.defaultChild as CfnFunction);
  const resource = resourcesOfType(synthesized.template, 'AWS::Lambda::Function')[logicalId];
  const environment = resource?.Properties.Environment as { Variables: Record<string, unknown> } | undefined;
  return Object.keys(environment?.Variables ?? {});
}

const functionsOf = (synthesized: Synthesized): Record<FunctionName, VerifierFunction | undefined> => ({
  verify: synthesized.stack.verifier.verify.fn,
  callback: synthesized.stack.verifier.callback?.fn,
  ingest: synthesized.stack.verifier.ingest?.fn,
  traffic: synthesized.stack.verifier.trafficLook?.fn,
  history: synthesized.stack.verifier.history?.fn,
  gate: synthesized.stack.verifier.gate?.fn,
  sentinel: synthesized.stack.verifier.sentinel?.fn,
});

describe.each(Object.keys(readers) as FunctionName[])('the %s function', (name) => {
  const contract = FUNCTION_VARIABLES[name];

  test("its settings reader accepts exactly the contract's names for it", () => {
    const accepted = Object.keys(readers[name].shape).sort();
    expect(accepted).toEqual([...contract.set, ...contract.optional, ...contract.runtime].sort());
  });

  test('the construct sets exactly the contract’s `set` names and the Powertools ones', () => {
    const set = new Set(
      configurations
        // The sentinel reads live Rollouts: a stack without clusters has none.
        .filter((synthesized) => name !== 'sentinel' || functionsOf(synthesized).sentinel !== undefined)
        .flatMap((synthesized) => variablesOf(synthesized, functionsOf(synthesized)[name])),
    );
    expect([...set].sort()).toEqual([...contract.set, ...COMMON_VARIABLES].sort());
  });
});

test('one name for the state table: both functions that keep idempotency records read the same variable', () => {
  const tableVariables = (name: 'verify' | 'callback') =>
    FUNCTION_VARIABLES[name].set.filter((variable) => variable.includes('TABLE'));
  expect(tableVariables('verify')).toEqual(['STATE_TABLE_NAME']);
  expect(tableVariables('callback')).toEqual(['STATE_TABLE_NAME']);
});
