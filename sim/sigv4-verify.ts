import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * An independent AWS Signature Version 4 checker, written from the specification (not with
 * @smithy/signature-v4, which the code under test signs with), for the tests and the loopback
 * simulators that stand in for AWS:
 * - presigned query-string URLs, as in EKS tokens (`k8s-aws-v1.` + a presigned STS
 *   GetCallerIdentity URL), with the rules aws-iam-authenticator's Verify enforces
 *   (kubernetes-sigs/aws-iam-authenticator, pkg/token/token.go) before it replays the URL;
 * - `Authorization: AWS4-HMAC-SHA256 …` headers, as the SDK v3 clients send them.
 */

export const hmac = (key: string | Buffer, data: string): Buffer =>
  createHmac('sha256', key).update(data, 'utf8').digest();
export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** URI-encode every byte except the unreserved characters A–Z a–z 0–9 - _ . ~ */
export function uriEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9\-_.~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
}

/** The signature of a canonical request under a credential scope `date/region/service/aws4_request`. */
export function signatureOf(
  secretAccessKey: string,
  amzDate: string,
  scope: string,
  canonicalRequest: string,
): string {
  const [date = '', region = '', service = ''] = scope.split('/');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  return createHmac('sha256', signingKey(secretAccessKey, date, region, service))
    .update(stringToSign, 'utf8')
    .digest('hex');
}

/** Query parameters URI-encoded, sorted by key then value, `&`-joined (the canonical query string). */
export function canonicalQuery(params: readonly (readonly [string, string])[]): string {
  return params
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

const sameText = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

// ---- EKS tokens ---------------------------------------------------------------------------------

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const MAX_EKS_TOKEN_BYTES = 4096;
/** aws-iam-authenticator: a token is good for 15 minutes after X-Amz-Date, whatever X-Amz-Expires says. */
export const EKS_TOKEN_LIFETIME_MS = 15 * 60_000;

/** The only query parameters the authenticator lets through (lower-cased). */
export const ALLOWED_TOKEN_PARAMETERS: ReadonlySet<string> = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
]);

export interface DecodedToken {
  url: URL;
  /** Query parameters exactly as sent, decoded, in order. */
  params: [string, string][];
  /** A parameter by name, case-insensitively. */
  get(name: string): string | undefined;
}

export class TokenRejected extends Error {
  override readonly name = 'TokenRejected';
}

export function lookup(params: readonly [string, string][]): DecodedToken['get'] {
  return (name) => params.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}

/** `k8s-aws-v1.` + Go's base64.RawURLEncoding of a URL, or TokenRejected saying why not. */
export function decodeEksToken(token: string): DecodedToken {
  if (Buffer.byteLength(token, 'utf8') > MAX_EKS_TOKEN_BYTES) {
    throw new TokenRejected(`token is longer than ${MAX_EKS_TOKEN_BYTES} bytes`);
  }
  if (!token.startsWith(EKS_TOKEN_PREFIX)) throw new TokenRejected(`token has no ${EKS_TOKEN_PREFIX} prefix`);
  const payload = token.slice(EKS_TOKEN_PREFIX.length);
  // RawURLEncoding: the URL-safe alphabet, no padding, and nothing else.
  if (!/^[A-Za-z0-9_-]+$/.test(payload) || payload.length % 4 === 1) {
    throw new TokenRejected('token payload is not unpadded base64url');
  }
  const text = Buffer.from(payload, 'base64url').toString('utf8');
  if (Buffer.from(text, 'utf8').toString('base64url') !== payload) {
    throw new TokenRejected('token payload does not round-trip as UTF-8 base64url');
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TokenRejected('token payload is not a URL');
  }
  const question = text.indexOf('?');
  const rawQuery = question < 0 ? '' : text.slice(question + 1).replace(/#.*$/, '');
  const params = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair): [string, string] => {
      const equals = pair.indexOf('=');
      const key = equals < 0 ? pair : pair.slice(0, equals);
      const value = equals < 0 ? '' : pair.slice(equals + 1);
      try {
        return [decodeURIComponent(key.replace(/\+/g, ' ')), decodeURIComponent(value.replace(/\+/g, ' '))];
      } catch {
        throw new TokenRejected('token URL has a malformed query');
      }
    });
  return { url, params, get: lookup(params) };
}

/**
 * STS hosts of the partitions the authenticator knows (pkg/endpoints): the global endpoint and
 * `sts.<region>.<partition domain>`. The authenticator accepts only its own partition's; pass
 * `stsHost` to be that strict.
 */
const STS_HOST =
  /^sts(\.[a-z]{2}(-[a-z]+)+-\d+)?\.(amazonaws\.com|amazonaws\.com\.cn|c2s\.ic\.gov|sc2s\.sgov\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;

/**
 * What aws-iam-authenticator's Verify checks before replaying the URL (the `aws` partition).
 * Returns the problems; empty means it would go on to ask STS.
 */
export function authenticatorProblems(
  decoded: DecodedToken,
  options: { now?: Date; stsHost?: (host: string) => boolean } = {},
): string[] {
  const { url, params, get } = decoded;
  const problems: string[] = [];
  if (url.protocol !== 'https:') problems.push(`unexpected scheme ${url.protocol}`);
  const validHost = options.stsHost ?? ((host: string) => STS_HOST.test(host));
  if (!validHost(url.host)) problems.push(`unexpected hostname ${url.host}`);
  if (url.pathname !== '/') problems.push(`unexpected path ${url.pathname}`);
  if (url.hash !== '' || url.username !== '' || url.password !== '') problems.push('unexpected URL parts');
  const keys = params.map(([key]) => key.toLowerCase());
  for (const key of keys) {
    if (!ALLOWED_TOKEN_PARAMETERS.has(key)) problems.push(`non-whitelisted query parameter ${key}`);
  }
  if (new Set(keys).size !== keys.length) problems.push('query parameter given more than once');
  if (get('Action') !== 'GetCallerIdentity') problems.push(`unexpected action ${String(get('Action'))}`);
  if (get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') problems.push('unexpected algorithm');
  const signedHeaders = (get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes('x-k8s-aws-id')) problems.push('client did not sign the x-k8s-aws-id header');
  const expires = Number(get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 0 || expires > 900) problems.push('X-Amz-Expires out of range');
  const date = parseAmzDate(get('X-Amz-Date') ?? '');
  if (!date) problems.push('X-Amz-Date missing or malformed');
  else if (options.now && options.now.getTime() > date.getTime() + EKS_TOKEN_LIFETIME_MS) {
    problems.push('token is expired');
  }
  if (!/^[0-9a-f]{64}$/.test(get('X-Amz-Signature') ?? '')) problems.push('X-Amz-Signature malformed');
  return problems;
}

/**
 * Rebuilds the canonical request the way STS does when the authenticator replays the URL with
 * `x-k8s-aws-id: <clusterName>`, and checks that X-Amz-Signature is what the secret key gives.
 * Payload hash: SHA-256 of the empty body. For a presigned URL of a non-S3 service that is what
 * the signer uses (the SDK's SignatureV4 without a body; botocore's SigV4QueryAuth too); the
 * constant UNSIGNED-PAYLOAD is S3's rule.
 */
export function verifyPresignedSignature(
  decoded: DecodedToken,
  clusterName: string,
  secretAccessKey: string,
): boolean {
  const { url, params, get } = decoded;
  const query = canonicalQuery(params.filter(([key]) => key !== 'X-Amz-Signature'));
  const headerValues: Record<string, string> = { host: url.host, 'x-k8s-aws-id': clusterName };
  const signedHeaders = get('X-Amz-SignedHeaders') ?? '';
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((name) => `${name}:${headerValues[name] ?? ''}\n`)
    .join('');
  const canonicalRequest = ['GET', '/', query, canonicalHeaders, signedHeaders, sha256Hex('')].join('\n');
  const [, ...scope] = (get('X-Amz-Credential') ?? '').split('/');
  return sameText(
    signatureOf(secretAccessKey, get('X-Amz-Date') ?? '', scope.join('/'), canonicalRequest),
    get('X-Amz-Signature') ?? '',
  );
}

/** `AKID/20240501/eu-west-1/sts/aws4_request` → its parts. */
export function credentialScope(
  credential: string,
): { accessKeyId: string; date: string; region: string; service: string } | undefined {
  const [accessKeyId, date, region, service, terminator, ...rest] = credential.split('/');
  if (!accessKeyId || !date || !region || !service || terminator !== 'aws4_request' || rest.length > 0) {
    return undefined;
  }
  return { accessKeyId, date, region, service };
}

export function parseAmzDate(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

// ---- Authorization headers ----------------------------------------------------------------------

export interface SignedHttpRequest {
  method: string;
  /** The path as sent (percent-encoded), without the query. */
  path: string;
  /** The raw query string, without `?`. */
  rawQuery: string;
  /** Lower-cased header names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type HeaderCheck =
  | { ok: true; accessKeyId: string; region: string; service: string }
  | {
      ok: false;
      code: 'MissingAuthenticationToken' | 'UnrecognizedClient' | 'InvalidSignature';
      message: string;
    };

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

/**
 * Checks an `Authorization: AWS4-HMAC-SHA256 …` request the way an AWS endpoint does: a known
 * access key, the signed headers present (host and x-amz-date among them), X-Amz-Date within
 * 15 minutes of `now`, and the signature over the canonical request (non-S3 rules: the path's
 * segments encoded once more, the payload hashed unless x-amz-content-sha256 carries the hash).
 */
export function verifyAuthorizationHeader(
  request: SignedHttpRequest,
  secretFor: (accessKeyId: string) => string | undefined,
  options: { service?: string; now?: Date } = {},
): HeaderCheck {
  const header = single(request.headers.authorization);
  if (!header)
    return { ok: false, code: 'MissingAuthenticationToken', message: 'Missing Authentication Token' };
  const match = AUTHORIZATION.exec(header.trim());
  const scope = match ? credentialScope(match[1] ?? '') : undefined;
  if (!match || !scope) {
    return { ok: false, code: 'InvalidSignature', message: 'Authorization header is not AWS4-HMAC-SHA256' };
  }
  const secret = secretFor(scope.accessKeyId);
  if (secret === undefined) {
    return {
      ok: false,
      code: 'UnrecognizedClient',
      message: 'The security token included in the request is invalid.',
    };
  }
  if (options.service && scope.service !== options.service) {
    return {
      ok: false,
      code: 'InvalidSignature',
      message: `Credential should be scoped to ${options.service}`,
    };
  }
  const signedHeaders = match[2] ?? '';
  const names = signedHeaders.split(';');
  if (!names.includes('host') || names.join(';') !== [...names].sort().join(';')) {
    return { ok: false, code: 'InvalidSignature', message: 'SignedHeaders must include host and be sorted' };
  }
  const amzDate = single(request.headers['x-amz-date']) ?? '';
  const date = parseAmzDate(amzDate);
  const now = options.now ?? new Date();
  if (!date || !amzDate.startsWith(scope.date) || Math.abs(now.getTime() - date.getTime()) > 15 * 60_000) {
    return {
      ok: false,
      code: 'InvalidSignature',
      message: 'Signature expired or X-Amz-Date does not match the scope',
    };
  }
  const canonicalHeaders = names
    .map((name) => {
      const value = request.headers[name];
      const text = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${text.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const payloadHash = single(request.headers['x-amz-content-sha256']) ?? sha256Hex(request.body);
  const params = request.rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair): [string, string] => {
      const [key = '', value = ''] = pair.split('=');
      return [decodeURIComponent(key), decodeURIComponent(value)];
    });
  const canonicalPath = request.path
    .split('/')
    .map((segment) => uriEncode(segment))
    .join('/');
  const canonicalRequest = [
    request.method,
    canonicalPath || '/',
    canonicalQuery(params),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scopeText = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  if (!sameText(signatureOf(secret, amzDate, scopeText, canonicalRequest), match[3] ?? '')) {
    return {
      ok: false,
      code: 'InvalidSignature',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return { ok: true, accessKeyId: scope.accessKeyId, region: scope.region, service: scope.service };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The check of a request to an AWS JSON-protocol service: a POST to a path, no query string. */
export function verifyJsonProtocolRequest(
  request: IncomingMessage,
  body: SignedHttpRequest['body'],
  secretFor: (accessKeyId: string) => string | undefined,
  service: string,
): HeaderCheck {
  return verifyAuthorizationHeader(
    {
      method: request.method ?? 'POST',
      path: (request.url ?? '/').split('?')[0] ?? '/',
      rawQuery: '',
      headers: request.headers,
      body,
    },
    secretFor,
    { service },
  );
}
