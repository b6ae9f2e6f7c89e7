import type { ValidationIssue } from '../core/normalize/index.js';

/** What a Function URL returns (payload format 2.0, `APIGatewayProxyStructuredResultV2`). */
export interface IngestResponse {
  statusCode: 202 | 400 | 401 | 403 | 405 | 413 | 422 | 500 | 503;
  headers: Record<string, string>;
  body: string;
}

/** At most this many issues in a 422 body; the rest are counted. */
export const MAX_ISSUES_IN_RESPONSE = 50;

function json(
  statusCode: IngestResponse['statusCode'],
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): IngestResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export const accepted = (eventId: string) => json(202, { accepted: true, eventId });

export const ignored = (reason: string) => json(202, { accepted: false, reason });

export const badRequest = (error: string) => json(400, { error });

/** Argo's webhook service can only send static headers: there is exactly one way in. */
export const unauthorized = () =>
  json(
    401,
    { error: 'a valid "Authorization: Bearer <token>" header is required' },
    {
      'www-authenticate': 'Bearer',
    },
  );

/** Outside ALLOWED_SOURCE_CIDRS: nothing else is said, not even that a token is expected. */
export const forbidden = () => json(403, { error: 'forbidden' });

export const methodNotAllowed = (method: string) =>
  json(405, { error: `method ${method.slice(0, 16)} not allowed: POST the notification` }, { allow: 'POST' });

export const tooLarge = (error: string) => json(413, { error });

export function unprocessable(error: string, issues: readonly ValidationIssue[]): IngestResponse {
  const shown = issues.slice(0, MAX_ISSUES_IN_RESPONSE).map((issue) => ({
    path: issue.path,
    message: issue.message,
    ...(issue.received !== undefined ? { received: issue.received } : {}),
  }));
  return json(422, {
    error,
    issues: shown,
    ...(issues.length > shown.length ? { issuesOmitted: issues.length - shown.length } : {}),
  });
}

/** 5xx: Argo's webhook service retries these (and network errors), never a 2xx or 4xx. */
export const unavailable = (error: string) => json(503, { error }, { 'retry-after': '1' });

export const internalError = () => json(500, { error: 'internal error; see the ingest function log' });
