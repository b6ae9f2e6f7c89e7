/** Longest token we look at; Secrets Manager holds at most 64 KiB, real tokens are ~50 characters. */
const MAX_TOKEN_LENGTH = 4096;

/**
 * `Authorization: Bearer <token>` (RFC 6750 §2.1): the scheme is case-insensitive, exactly one
 * token, no other credential form. Argo's webhook service can send static headers only.
 */
const BEARER = /^Bearer +([^\s,]+) *$/i;

export type PresentedCredentials =
  | { kind: 'bearer'; token: string }
  | { kind: 'missing' }
  /** `reason` is one of a few fixed phrases and `headerLength` a number: nothing of the header itself. */
  | { kind: 'malformed'; reason: MalformedReason; headerLength: number };

export type MalformedReason = 'not the Bearer scheme' | 'Bearer without exactly one token' | 'token too long';

/**
 * What the `Authorization` header holds, without judging the token yet. A malformed header is
 * described by a fixed reason and its length only: `<token>`, `Bearer=<token>` or `Token <token>`
 * put the token where a scheme is expected, so no part of the header, not even its "scheme", may
 * reach a log line.
 */
export function bearerTokenOf(authorization: string | undefined): PresentedCredentials {
  if (authorization === undefined || authorization.trim() === '') return { kind: 'missing' };
  const match = BEARER.exec(authorization);
  const headerLength = authorization.length;
  if (!match?.[1]) {
    const reason = /^bearer(\s|$)/i.test(authorization)
      ? 'Bearer without exactly one token'
      : 'not the Bearer scheme';
    return { kind: 'malformed', reason, headerLength };
  }
  if (match[1].length > MAX_TOKEN_LENGTH)
    return { kind: 'malformed', reason: 'token too long', headerLength };
  return { kind: 'bearer', token: match[1] };
}
