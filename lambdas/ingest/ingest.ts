import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { ROLLOUT_DETAIL_TYPES, ROLLOUT_EVENT_SOURCE } from '../../contract/event-catalog.js';
import {
  formatIssuePath,
  type NotificationEvent,
  NotificationValidationError,
  normalizeNotification,
} from '../core/normalize/index.js';
import { findJsonBoundsViolation } from '../core/normalize/json-bounds.js';
import { logger, metrics } from '../shared/powertools.js';
import { type PutEventsOptions, putEventsReliably } from '../shared/put-events.js';
import { bearerTokenOf } from './auth.js';
import type { ClusterTokenSource } from './cluster-tokens.js';
import {
  bodyTextOf,
  claimedClusterOf,
  headerOf,
  parseJsonBody,
  type WebhookRequest,
  webhookRequestOf,
} from './request.js';
import type { IngestResponse } from './responses.js';
import * as respond from './responses.js';
import type { IngestSettings } from './settings.js';
import type { SourceAllowList } from './source-allow-list.js';
import { classifyTrigger } from './triggers.js';

/** PutEvents' limit for one entry (Source + DetailType + Detail + Resources, UTF-8 bytes). */
export const MAX_ENTRY_BYTES = 256 * 1024;

/** One metric per request, named by outcome; no per-reason dimension (low cardinality). */
export const INGEST_METRICS = {
  accepted: 'IngestAccepted',
  ignored: 'IngestIgnoredTriggers',
  rejected: 'IngestRejected',
  unauthenticated: 'IngestAuthenticationFailures',
  /** A valid token, for another cluster than the one the request names: alarmed on the first. */
  clusterMismatch: 'IngestClusterMismatches',
  /** A cluster still sending the previous token after the rotation window: it is losing notifications. */
  expiredToken: 'IngestExpiredTokens',
  tokenStoreFailure: 'IngestTokenStoreFailures',
  publishFailure: 'IngestPublishFailures',
  internalError: 'IngestInternalErrors',
  /** From outside ALLOWED_SOURCE_CIDRS: counted, logged at DEBUG only (a flood must not fill the log). */
  forbiddenSource: 'IngestForbiddenSources',
} as const;
type Outcome = keyof typeof INGEST_METRICS;

export interface IngestDependencies {
  settings: Pick<IngestSettings, 'EVENT_BUS_NAME'>;
  /** Each cluster's token, and the unbound one of a stack without clusters. */
  tokens: ClusterTokenSource;
  eventBridge: EventBridgeClient;
  /** Answer only these sources; absent: any. */
  allowedSources?: SourceAllowList;
  /** The receive time stamped on the event; injectable for tests. */
  now?: () => Date;
  /** Re-sending of entries PutEvents rejected: short, the webhook waits for the answer. */
  publish?: PutEventsOptions;
}

/**
 * Argo Rollouts notification (Function URL request) → one normalized rollout event on the bus.
 * Order: source allow-list, method, bearer token (and the cluster it speaks for), body size, JSON bounds (depth, entries, values), JSON, trigger,
 * schema, publish; the first failing check
 * answers. Never throws: every path ends in a response, and only a published event gets a 2xx
 * with `accepted: true`.
 */
export function createIngest(deps: IngestDependencies): (event: unknown) => Promise<IngestResponse> {
  const now = deps.now ?? (() => new Date());
  const publish = deps.publish ?? { maxRounds: 3, baseDelayMs: 100 };

  const finish = (outcome: Outcome, response: IngestResponse, details: Record<string, unknown> = {}) => {
    metrics.addMetric(INGEST_METRICS[outcome], MetricUnit.Count, 1);
    const entry = { outcome, status: response.statusCode, ...details };
    if (outcome === 'forbiddenSource') logger.debug('request from a source outside the allow-list', entry);
    else if (response.statusCode >= 500) logger.error('notification not published', entry);
    else if (response.statusCode === 401 || outcome === 'rejected')
      logger.warn('notification rejected', entry);
    else logger.info(outcome === 'accepted' ? 'notification published' : 'notification ignored', entry);
    return response;
  };

  async function handle(event: unknown): Promise<IngestResponse> {
    const request = webhookRequestOf(event);
    if (!request) {
      return finish('rejected', respond.badRequest('not a Lambda Function URL or API Gateway proxy request'));
    }
    logger.appendKeys({
      requestId: request.requestId,
      sourceIp: request.sourceIp,
      userAgent: request.userAgent?.slice(0, 200),
    });
    // Before anything else, the method included: a stranger's request costs no more than this.
    if (deps.allowedSources && !deps.allowedSources.allows(request.sourceIp)) {
      return finish('forbiddenSource', respond.forbidden());
    }
    if (request.method.toUpperCase() !== 'POST') {
      return finish('rejected', respond.methodNotAllowed(request.method), {
        method: request.method.slice(0, 16),
      });
    }

    // Authentication before the body is looked at: a stranger learns nothing about the schema.
    const authenticated = await authenticate(request);
    if ('denied' in authenticated) return authenticated.denied;
    const { cluster } = authenticated;

    const body = bodyTextOf(request);
    if (!body.ok) {
      const response =
        body.status === 413 ? respond.tooLarge(body.problem) : respond.badRequest(body.problem);
      return finish('rejected', response, { bytes: body.bytes });
    }
    // Before JSON.parse and everything after it walks the body: none of them meets a hostile shape.
    const outOfBounds = findJsonBoundsViolation(body.text);
    if (outOfBounds) {
      const issue = { path: formatIssuePath(outOfBounds.path), message: outOfBounds.message };
      return finish(
        'rejected',
        respond.unprocessable('the body is nested too deep or holds too much to be a Rollout', [issue]),
        { bytes: body.bytes, issues: [issue] },
      );
    }
    const json = parseJsonBody(body.text);
    if (!json.ok) return finish('rejected', respond.badRequest(json.problem), { bytes: body.bytes });

    const trigger = classifyTrigger(json.value);
    if (trigger.kind === 'ignored') {
      // Unknown names are worth a look (a typo in a template); Argo's own non-rollout triggers are not.
      if (!trigger.known) logger.warn('unknown trigger', { trigger: trigger.trigger });
      return finish('ignored', respond.ignored(trigger.reason), { trigger: trigger.trigger });
    }

    let detail: NotificationEvent;
    try {
      detail = normalizeNotification(json.value, { receivedAt: now(), cluster });
    } catch (error) {
      if (!(error instanceof NotificationValidationError)) throw error;
      return finish(
        'rejected',
        respond.unprocessable(
          'the notification does not describe a Rollout the verifier can act on',
          error.issues,
        ),
        { issues: error.issues.slice(0, respond.MAX_ISSUES_IN_RESPONSE) },
      );
    }
    const rollout = `${detail.rollout.namespace}/${detail.rollout.name}`;
    const context = { eventId: detail.eventId, trigger: detail.trigger, rollout, cluster: detail.cluster };

    const entry: PutEventsRequestEntry = {
      EventBusName: deps.settings.EVENT_BUS_NAME,
      Source: ROLLOUT_EVENT_SOURCE,
      DetailType: ROLLOUT_DETAIL_TYPES[detail.trigger],
      Detail: JSON.stringify(detail),
    };
    const entryBytes = entrySize(entry);
    if (entryBytes > MAX_ENTRY_BYTES) {
      return finish(
        'rejected',
        respond.unprocessable('the normalized event exceeds the 256 KiB EventBridge entry limit', [
          { path: '(normalized event)', message: `is ${entryBytes} bytes; the limit is ${MAX_ENTRY_BYTES}` },
        ]),
        context,
      );
    }
    try {
      await putEventsReliably(deps.eventBridge, [entry], publish);
    } catch (error) {
      return finish('publishFailure', respond.unavailable('the event could not be published; retry'), {
        ...context,
        error: describe(error),
      });
    }
    return finish('accepted', respond.accepted(detail.eventId), context);
  }

  /**
   * The bearer token, then the cluster it speaks for: the one whose secret holds it. A request
   * naming a cluster (`?cluster=`) must name that one; without a name, the token's cluster is it.
   */
  async function authenticate(
    request: WebhookRequest,
  ): Promise<{ cluster: string | undefined } | { denied: IngestResponse }> {
    const refuse = (outcome: Outcome, response: IngestResponse, details: Record<string, unknown>) => ({
      denied: finish(outcome, response, details),
    });
    const credentials = bearerTokenOf(headerOf(request, 'authorization'));
    if (credentials.kind === 'missing') {
      return refuse('unauthenticated', respond.unauthorized(), { reason: 'no Authorization header' });
    }
    if (credentials.kind === 'malformed') {
      return refuse('unauthenticated', respond.unauthorized(), {
        reason: `malformed Authorization header: ${credentials.reason}`,
        headerLength: credentials.headerLength,
      });
    }
    const lookup = await deps.tokens.lookup(credentials.token);
    const valid = lookup.matches.filter((match) => !match.expired);
    if (valid.length === 0) {
      const expired = lookup.matches.find((match) => match.expired);
      if (expired) {
        return refuse('expiredToken', respond.unauthorized(), {
          reason: 'the previous token, past the rotation window: update this cluster’s secret',
          tokenCluster: named(expired.cluster),
        });
      }
      if (lookup.unreadable.length > 0) {
        // It may be the token of a cluster whose secret cannot be read: never accept, never refuse; Argo retries a 503.
        return refuse('tokenStoreFailure', respond.unavailable('authentication is unavailable; retry'), {
          error: lookup.unreadable
            .map(({ cluster, error }) => `${named(cluster)}: ${error.message}`)
            .join('; '),
        });
      }
      return refuse('unauthenticated', respond.unauthorized(), {
        reason: 'token matches no accepted version',
      });
    }

    const claimed = claimedClusterOf(request);
    if (!claimed.ok) return refuse('rejected', respond.badRequest(claimed.problem), {});
    const tokenClusters = [...new Set(valid.map((match) => match.cluster))];
    let cluster = tokenClusters[0];
    if (claimed.cluster !== undefined) {
      if (!tokenClusters.includes(claimed.cluster)) {
        return refuse('clusterMismatch', respond.unauthorized(), {
          reason: 'the token is bound to another cluster than the one the request names',
          cluster: claimed.cluster,
          tokenClusters: tokenClusters.map(named),
        });
      }
      cluster = claimed.cluster;
    } else if (tokenClusters.length > 1) {
      return refuse(
        'rejected',
        respond.badRequest('this token is bound to several clusters: name one with ?cluster=<name>'),
        { tokenClusters: tokenClusters.map(named) },
      );
    }
    if (valid.some((match) => match.cluster === cluster && match.stage === 'AWSPREVIOUS')) {
      logger.warn('request authenticated with the previous webhook token: update this cluster’s secret', {
        cluster: named(cluster),
        tokenVersion: 'AWSPREVIOUS',
      });
    }
    return { cluster };
  }

  return async (event) => {
    try {
      return await handle(event);
    } catch (error) {
      // A bug, not a client error: answer (Argo retries a 5xx) and make it visible.
      return finish('internalError', respond.internalError(), { error: describe(error) });
    }
  };
}

/** The Lambda handler: the ingest flow wrapped in Powertools logging (fresh keys per request) and metrics. */
export function buildIngestHandler(deps: IngestDependencies) {
  const ingest = createIngest(deps);
  return (
    middy(async (event: unknown, _context: Context) => await ingest(event))
      // logEvent: false even when POWERTOOLS_LOGGER_LOG_EVENT=true: the event holds the bearer token.
      .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
      .use(logMetrics(metrics))
  );
}

/** PutEvents entry size as EventBridge computes it (Time is not set: EventBridge stamps it). */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined) => (text ? Buffer.byteLength(text, 'utf8') : 0);
  return (
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, resource) => sum + bytes(resource), 0)
  );
}

/** A cluster for a log line; the unbound token of a stack without clusters speaks for none. */
const named = (cluster: string | undefined) => cluster ?? '(no cluster)';

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
