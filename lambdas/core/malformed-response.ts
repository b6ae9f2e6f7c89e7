import type { Finding } from './contracts/verdict-event.js';

/**
 * An answer that is not one: HTTP 200 without the result the API always sends (an HTML page from
 * a proxy, a truncated body, a result without its list), or a list that leaves out what was asked
 * for. It says nothing about the rollout, so it can never become a finding about the rollout —
 * an empty rule list read as "no rule forwards here" would abort a healthy release.
 */
export class MalformedResponseError extends Error {
  override readonly name = 'MalformedResponse';

  constructor(
    /** The call, e.g. `ELBv2 DescribeRules` or `GET /apis/…/virtualservices/reviews`. */
    readonly call: string,
    /** What is wrong with the answer, e.g. `HTTP 200 (text/html) without <Rules>`. */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${call}: ${problem}`, options);
  }
}

export function malformedResponseFinding(error: MalformedResponseError, resource: string): Finding {
  return {
    code: 'MalformedResponse',
    resource,
    expected: 'a well-formed answer',
    observed: error.problem,
    message: `${error.call}: ${error.problem} — not an answer, so nothing is concluded from it`,
  };
}
