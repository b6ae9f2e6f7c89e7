/**
 * `labelSelector` (k8s.io/apimachinery/pkg/labels) and `fieldSelector` query parameters.
 * Labels: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`, comma-separated (AND).
 * Fields: `path=value`, `path==value`, `path!=value` on any dotted path (the API server allows only a
 * few fields per type — `metadata.name`, `involvedObject.name` on events, … — the fake allows all).
 */

export interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!exists';
  /** Empty for exists / !exists. */
  values: string[];
}

export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

const KEY = '[A-Za-z0-9](?:[-A-Za-z0-9_./]*[A-Za-z0-9])?';
const VALUE = '(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?';
const EQUALITY = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*(${VALUE})$`);
const SET = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s+\(([^()]*)\)$`);
const EXISTS = new RegExp(String.raw`^(!?)\s*(${KEY})$`);
const SET_VALUE = new RegExp(`^${VALUE}$`);

/** Split on commas outside parentheses. */
function clauses(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const char = selector[i];
    if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === ',' && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(selector.slice(start));
  return parts.map((part) => part.trim());
}

export function parseLabelSelector(selector: string): Requirement[] {
  if (selector.trim() === '') return [];
  return clauses(selector).map((clause): Requirement => {
    const equality = EQUALITY.exec(clause);
    if (equality) {
      const [, key = '', op, value = ''] = equality;
      return { key, op: op === '!=' ? 'notin' : 'in', values: [value] };
    }
    const set = SET.exec(clause);
    if (set) {
      const [, key = '', op, list = ''] = set;
      const values = list.split(',').map((value) => value.trim());
      if (values.some((value) => !SET_VALUE.test(value))) {
        throw new SelectorError(`unable to parse requirement: invalid value in ${JSON.stringify(clause)}`);
      }
      return { key, op: op === 'notin' ? 'notin' : 'in', values };
    }
    const exists = EXISTS.exec(clause);
    if (exists) return { key: exists[2] ?? '', op: exists[1] ? '!exists' : 'exists', values: [] };
    throw new SelectorError(`unable to parse requirement: ${JSON.stringify(clause)}`);
  });
}

/** `!=` and `notin` match objects without the label, as in Kubernetes. */
export function matchesLabels(
  labels: Record<string, string> | undefined,
  requirements: Requirement[],
): boolean {
  return requirements.every((requirement) => {
    const value = labels?.[requirement.key];
    if (requirement.op === 'exists') return value !== undefined;
    if (requirement.op === '!exists') return value === undefined;
    if (requirement.op === 'in') return value !== undefined && requirement.values.includes(value);
    return value === undefined || !requirement.values.includes(value);
  });
}

export interface FieldRequirement {
  path: string[];
  equals: boolean;
  value: string;
}

export function parseFieldSelector(selector: string): FieldRequirement[] {
  if (selector.trim() === '') return [];
  return clauses(selector).map((clause) => {
    const match = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(clause);
    if (!match) throw new SelectorError(`invalid selector: '${selector}'; can't understand '${clause}'`);
    const [, path = '', op, value = ''] = match;
    return { path: path.split('.'), equals: op !== '!=', value };
  });
}

export function matchesFields(object: unknown, requirements: FieldRequirement[]): boolean {
  return requirements.every(({ path, equals, value }) => {
    let current: unknown = object;
    for (const segment of path) {
      current =
        typeof current === 'object' && current !== null
          ? (current as Record<string, unknown>)[segment]
          : undefined;
    }
    const actual = current === undefined || current === null ? '' : String(current);
    return (actual === value) === equals;
  });
}
