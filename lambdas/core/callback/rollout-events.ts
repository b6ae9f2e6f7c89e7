import { ROLLOUT_API_VERSION } from '../cluster/paths.js';
import type { Finding, VerdictEventDetail } from '../contracts/verdict-event.js';
import { earlierObservationNote } from '../earlier-evidence.js';
import type { Decision } from './decide.js';

/**
 * core/v1 Events on the Rollout, so `kubectl describe rollout` shows what the verifier saw and did.
 * Names are deterministic per verdict: a duplicate delivery gets 409 AlreadyExists instead of a
 * second copy.
 */

export const EVENT_SOURCE = 'rollout-verifier';
/** Findings beyond this are summarised in one line; an Event per finding would flood describe. */
export const MAX_FINDING_EVENTS = 5;
/** Events are not meant for essays; the verdict on the bus carries the whole evidence. */
const MAX_MESSAGE_LENGTH = 1024;

export interface KubeEvent {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  involvedObject: { apiVersion: string; kind: 'Rollout'; name: string; namespace: string; uid: string };
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  source: { component: string };
  reportingComponent: string;
  reportingInstance: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: 1;
}

interface EventContent {
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
}

export function verdictEvents(
  verdict: VerdictEventDetail,
  decision: Decision,
  options: { now: Date; instance: string },
): KubeEvent[] {
  const contents = [...verdictContents(verdict), ...decisionContents(verdict, decision)];
  return contents.map((content, index) => toKubeEvent(verdict, content, index, options));
}

function verdictContents(verdict: VerdictEventDetail): EventContent[] {
  const step = `step ${verdict.step.index}`;
  if (verdict.verdict === 'Succeeded') {
    return [
      {
        reason: 'VerificationSucceeded',
        type: 'Normal',
        message: `${step}: ${verdict.traffic.router} traffic verified at canary ${verdict.expected.canaryWeight} / stable ${verdict.expected.stableWeight}${targetSummary(verdict)} after ${verdict.attempts} observation(s) in ${(verdict.durationMs / 1000).toFixed(1)} s`,
      },
    ];
  }
  const shown = verdict.findings.slice(0, MAX_FINDING_EVENTS).map((finding) => findingContent(step, finding));
  const rest = verdict.findings.length - shown.length;
  if (rest > 0) {
    shown.push({
      reason: `Verification${verdict.verdict}`,
      type: 'Warning',
      message: `${step}: ${rest} more finding(s): ${verdict.findings
        .slice(MAX_FINDING_EVENTS)
        .map((finding) => `${finding.code} ${finding.resource}`)
        .join('; ')}`,
    });
  }
  if (shown.length === 0) {
    shown.push({
      reason: `Verification${verdict.verdict}`,
      type: 'Warning',
      message: `${step}: ${verdict.verdict}`,
    });
  }
  return shown;
}

function findingContent(step: string, finding: Finding): EventContent {
  return {
    reason: finding.code,
    type: 'Warning',
    message: `${step}: ${earlierObservationNote(finding)}${finding.message} (expected ${String(finding.expected)}, observed ${String(finding.observed)}; ${finding.resource})`,
  };
}

function decisionContents(verdict: VerdictEventDetail, decision: Decision): EventContent[] {
  switch (decision.action) {
    case 'abort':
      return [{ reason: 'AbortedByVerifier', type: 'Warning', message: `aborted: ${decision.reason}` }];
    case 'promote':
      return [{ reason: 'PromotedByVerifier', type: 'Normal', message: `promoted: ${decision.reason}` }];
    case 'none':
      // Only worth an Event when a policy wanted to act and the live Rollout said no.
      return decision.wanted
        ? [
            {
              reason: decision.wanted === 'abort' ? 'AbortSkipped' : 'PromoteSkipped',
              type: verdict.verdict === 'Succeeded' ? 'Normal' : 'Warning',
              message: `not ${decision.wanted === 'abort' ? 'aborted' : 'promoted'}: ${decision.reason}`,
            },
          ]
        : [];
  }
}

function targetSummary(verdict: VerdictEventDetail): string {
  const canary = verdict.evidence?.backends.filter((backend) => backend.role === 'canary') ?? [];
  if (canary.length === 0) return '';
  const healthy = canary.reduce((sum, backend) => sum + (backend.targets.healthy ?? 0), 0);
  return `, ${healthy} healthy canary target(s)`;
}

function toKubeEvent(
  verdict: VerdictEventDetail,
  content: EventContent,
  index: number,
  options: { now: Date; instance: string },
): KubeEvent {
  const { namespace, name, uid } = verdict.rollout;
  const timestamp = options.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      // ≤ 253 characters whatever the Rollout's name: 200 + "." + 16 + "." + index.
      name: `${name.slice(0, 200).replace(/[.-]+$/, '')}.${verdict.verdictId.slice(0, 16)}.${index}`,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': EVENT_SOURCE },
      annotations: {
        'rollout-verifier.io/verdict-id': verdict.verdictId,
        'rollout-verifier.io/event-id': verdict.eventId,
      },
    },
    involvedObject: { apiVersion: ROLLOUT_API_VERSION, kind: 'Rollout', name, namespace, uid },
    reason: content.reason,
    message: truncate(content.message),
    type: content.type,
    source: { component: EVENT_SOURCE },
    reportingComponent: EVENT_SOURCE,
    reportingInstance: options.instance,
    firstTimestamp: timestamp,
    lastTimestamp: timestamp,
    count: 1,
  };
}

function truncate(message: string): string {
  return message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
}
