import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { EventBridgeEnvelope } from '@aws-lambda-powertools/parser/envelopes/eventbridge';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { ParsedResult } from '@aws-lambda-powertools/parser/types';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { VerdictEventDetail } from '../core/contracts/verdict-event.js';
import { VerdictHistory } from '../core/history/verdict-history.js';
import { invalidEvent, logger, metrics } from '../shared/powertools.js';
import { readSettings } from './settings.js';

/**
 * Verdict events → the verdict history table, one item per verdict. A redelivered verdict finds
 * its item already there and writes nothing: no idempotency table is needed.
 */

const settings = readSettings();
const history = new VerdictHistory({
  client: new DynamoDBClient({}),
  tableName: settings.HISTORY_TABLE_NAME,
  retentionSeconds: settings.HISTORY_RETENTION_DAYS * 86_400,
});

export const lambdaHandler = async (
  parsed: ParsedResult<unknown, VerdictEventDetail>,
  _context: Context,
): Promise<{ recorded: boolean }> => {
  if (!parsed.success) throw invalidEvent('InvalidVerdictEvents', 'verdict event', parsed.error.message);
  const verdict = parsed.data;
  const recorded = await history.record(verdict, 'verify');
  metrics.addMetric(recorded ? 'VerdictsRecorded' : 'VerdictsAlreadyRecorded', MetricUnit.Count, 1);
  logger.info(recorded ? 'verdict recorded' : 'verdict already recorded', {
    rollout: `${verdict.rollout.namespace}/${verdict.rollout.name}`,
    verdictId: verdict.verdictId,
    verdict: verdict.verdict,
  });
  return { recorded };
};

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .use(parser({ schema: VerdictEventDetail, envelope: EventBridgeEnvelope, safeParse: true }));
