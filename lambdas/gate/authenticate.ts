import { bearerTokenOf } from '../ingest/auth.js';
import type { ClusterTokenSource } from '../ingest/cluster-tokens.js';
import { claimedClusterOf, headerOf, type WebhookRequest } from '../ingest/request.js';

export type Authentication =
  | { ok: true; cluster: string | undefined; previousToken: boolean }
  | {
      ok: false;
      status: 400 | 401 | 503;
      /** For the caller: nothing about which cluster or token version was recognised. */
      error: string;
      /** For the log: a fixed phrase, never a part of the header. */
      reason: string;
    };

const UNAUTHORIZED = 'a valid "Authorization: Bearer <token>" header is required';

/**
 * The webhook's rules, for the gate: the bearer token must be a current version (or the previous
 * one within the rotation window) of some cluster's token, and the token speaks for its own cluster
 * only — a request naming another (`?cluster=`) is refused. Tokens that cannot be read answer 503:
 * never accepted, never refused on a guess.
 */
export async function authenticate(
  request: WebhookRequest,
  tokens: ClusterTokenSource,
): Promise<Authentication> {
  const refuse = (status: 400 | 401 | 503, reason: string, error = UNAUTHORIZED): Authentication => ({
    ok: false,
    status,
    error,
    reason,
  });
  const credentials = bearerTokenOf(headerOf(request, 'authorization'));
  if (credentials.kind === 'missing') return refuse(401, 'no Authorization header');
  if (credentials.kind === 'malformed')
    return refuse(401, `malformed Authorization header: ${credentials.reason}`);
  const lookup = await tokens.lookup(credentials.token);
  const valid = lookup.matches.filter((match) => !match.expired);
  if (valid.length === 0) {
    if (lookup.matches.length > 0) return refuse(401, 'the previous token, past the rotation window');
    if (lookup.unreadable.length > 0) {
      return refuse(503, 'the token secrets cannot be read', 'authentication is unavailable; retry');
    }
    return refuse(401, 'token matches no accepted version');
  }
  const claimed = claimedClusterOf(request);
  if (!claimed.ok) return refuse(400, claimed.problem, claimed.problem);
  const tokenClusters = [...new Set(valid.map((match) => match.cluster))];
  let cluster = tokenClusters[0];
  if (claimed.cluster !== undefined) {
    if (!tokenClusters.includes(claimed.cluster)) {
      return refuse(401, 'the token is bound to another cluster than the one the request names');
    }
    cluster = claimed.cluster;
  } else if (tokenClusters.length > 1) {
    const problem = 'this token is bound to several clusters: name one with ?cluster=<name>';
    return refuse(400, problem, problem);
  }
  const previousToken = valid.some((match) => match.cluster === cluster && match.stage === 'AWSPREVIOUS');
  return { ok: true, cluster, previousToken };
}
