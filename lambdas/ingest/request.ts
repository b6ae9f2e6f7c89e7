import { z } from 'zod';
import { ClusterName } from '../core/contracts/cluster-name.js';

/** The largest notification body accepted, in decoded bytes (a Rollout is a few KiB). */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * The few fields of a Lambda Function URL request (payload format 2.0, the shape of
 * `APIGatewayProxyEventV2`) the ingest function reads. Everything else passes untouched.
 */
const FunctionUrlRequest = z
  .object({
    requestContext: z
      .object({
        requestId: z.string().optional(),
        http: z
          .object({
            method: z.string(),
            sourceIp: z.string().optional(),
            userAgent: z.string().optional(),
          })
          .loose(),
      })
      .loose(),
    headers: z.record(z.string(), z.unknown()).nullish(),
    queryStringParameters: z.record(z.string(), z.unknown()).nullish(),
    body: z.string().nullish(),
    isBase64Encoded: z.boolean().nullish(),
  })
  .loose();

/**
 * The same from an API Gateway REST API proxy integration (payload format 1.0), the optional front
 * of lib/ingest.ts: repeated headers arrive in `multiValueHeaders`.
 */
const RestApiRequest = z
  .object({
    httpMethod: z.string(),
    requestContext: z
      .object({
        requestId: z.string().optional(),
        identity: z.object({ sourceIp: z.string().optional(), userAgent: z.string().nullish() }).loose(),
      })
      .loose(),
    headers: z.record(z.string(), z.unknown()).nullish(),
    multiValueHeaders: z.record(z.string(), z.array(z.unknown()).nullish()).nullish(),
    queryStringParameters: z.record(z.string(), z.unknown()).nullish(),
    body: z.string().nullish(),
    isBase64Encoded: z.boolean().nullish(),
  })
  .loose();

/** What the ingest function reads of a request, whichever front delivered it. */
export interface WebhookRequest {
  method: string;
  sourceIp: string | undefined;
  userAgent: string | undefined;
  requestId: string | undefined;
  /** Names as sent; a repeated header's values joined with commas, as a Function URL joins them. */
  headers: Record<string, unknown>;
  query: Record<string, unknown>;
  body: string;
  isBase64Encoded: boolean;
}

/** A Function URL (payload 2.0) or REST API (payload 1.0) event as a WebhookRequest; undefined for anything else. */
export function webhookRequestOf(event: unknown): WebhookRequest | undefined {
  const url = FunctionUrlRequest.safeParse(event);
  if (url.success) {
    const { http, requestId } = url.data.requestContext;
    return {
      method: http.method,
      sourceIp: http.sourceIp,
      userAgent: http.userAgent,
      requestId,
      headers: url.data.headers ?? {},
      query: url.data.queryStringParameters ?? {},
      body: url.data.body ?? '',
      isBase64Encoded: url.data.isBase64Encoded === true,
    };
  }
  const rest = RestApiRequest.safeParse(event);
  if (!rest.success) return undefined;
  const { identity, requestId } = rest.data.requestContext;
  const repeated = Object.fromEntries(
    Object.entries(rest.data.multiValueHeaders ?? {})
      .filter(([, values]) => (values?.length ?? 0) > 1)
      .map(([name, values]) => [name, (values ?? []).join(',')]),
  );
  return {
    method: rest.data.httpMethod,
    sourceIp: identity.sourceIp,
    userAgent: identity.userAgent ?? undefined,
    requestId,
    headers: { ...rest.data.headers, ...repeated },
    query: rest.data.queryStringParameters ?? {},
    body: rest.data.body ?? '',
    isBase64Encoded: rest.data.isBase64Encoded === true,
  };
}

/**
 * A header by name, case-insensitively (Function URLs lower-case names; a direct invocation may
 * not). Repeated headers arrive joined with commas.
 */
export function headerOf(request: WebhookRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  }
  return undefined;
}

export type ClusterChoice = { ok: true; cluster: string | undefined } | { ok: false; problem: string };

/**
 * The cluster a request says it comes from (`?cluster=<name>`), if it names one. It is a claim the
 * token must back: each token speaks for its own cluster only (ingest.ts).
 */
export function claimedClusterOf(request: WebhookRequest): ClusterChoice {
  const raw = request.query.cluster;
  if (raw === undefined || raw === null) return { ok: true, cluster: undefined };
  const parsed = ClusterName.safeParse(raw);
  if (!parsed.success) {
    // Repeated parameters arrive comma-joined and fail the name rule, which is right: one cluster per URL.
    return {
      ok: false,
      problem: `query parameter cluster ${parsed.error.issues[0]?.message ?? 'is invalid'}`,
    };
  }
  return { ok: true, cluster: parsed.data };
}

export type BodyText =
  | { ok: true; text: string; bytes: number }
  | { ok: false; status: 400 | 413; problem: string; bytes: number };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as text, size-checked on the decoded bytes before anything else touches it.
 * Base64 bodies (binary content types) are decoded; a BOM is dropped.
 */
export function bodyTextOf(request: WebhookRequest): BodyText {
  const body = request.body;
  const base64 = request.isBase64Encoded;
  // Exact for well-formed base64 and computed without decoding: a 6 MB body costs no allocation.
  const bytes = base64 ? Buffer.byteLength(body, 'base64') : Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_BODY_BYTES) {
    return {
      ok: false,
      status: 413,
      bytes,
      problem: `body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES} bytes`,
    };
  }
  if (!base64) return { ok: true, text: body.replace(/^\uFEFF/, ''), bytes };
  try {
    return { ok: true, text: utf8.decode(Buffer.from(body, 'base64')), bytes };
  } catch {
    return { ok: false, status: 400, bytes, problem: 'body is not valid UTF-8 text' };
  }
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; problem: string };

export function parseJsonBody(text: string): JsonBody {
  if (text.trim() === '') return { ok: false, problem: 'body is empty: expected the notification JSON' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, problem: `body is not valid JSON: ${(error as Error).message}` };
  }
}
