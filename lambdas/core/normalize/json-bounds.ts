/**
 * Bounds on the shape of a notification body, checked before anything else looks at it.
 *
 * Parts of the Rollout are passed through untouched (Istio `tlsRoutes`/`tcpRoutes`, loose objects),
 * and everything downstream walks them recursively: zod, `JSON.stringify` when the event is
 * published, the verify function's parser. At about 5,000 levels `JSON.stringify` overflows the
 * stack and the webhook answered 500. A Rollout nests about 15 levels deep (pod template affinity,
 * managedFields) and holds a few thousand values, so these limits leave wide room for real objects
 * and none for a body built to exhaust the stack, CPU or memory.
 *
 * Both checks are iterative: a JSON text is scanned character by character without parsing it
 * (a parse, or any recursive walk, of a hostile text is what must not happen first), and a parsed
 * value is walked with an explicit stack.
 */

export interface JsonBounds {
  /** Containers (objects and arrays) nested along one path: `{}` is 1, `{"a": []}` is 2. */
  readonly maxDepth: number;
  /** Entries of one object (keys) or one array (elements). */
  readonly maxEntries: number;
  /** Values in the whole body, containers and scalars alike. */
  readonly maxValues: number;
}

export const JSON_BOUNDS: JsonBounds = { maxDepth: 64, maxEntries: 10_000, maxValues: 50_000 };

export interface JsonBoundsViolation {
  /**
   * Where: the segments from the root to the value that crossed a bound. Keys are the sender's
   * text and end up in a response and a log line: each is cut to MAX_KEY_IN_PATH characters.
   */
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * The first bound `body` crosses, or undefined. A string is taken as JSON text and scanned
 * without being parsed (text that is not JSON passes: parsing it reports that); anything else is
 * taken as a parsed value.
 */
export function findJsonBoundsViolation(
  body: unknown,
  bounds: JsonBounds = JSON_BOUNDS,
): JsonBoundsViolation | undefined {
  return typeof body === 'string' ? scanText(body, bounds) : walkValue(body, bounds);
}

/** Throws `toError(violation)` when `body` crosses a bound: the caller chooses its own error type. */
export function assertWithinJsonBounds(
  body: unknown,
  toError: (violation: JsonBoundsViolation) => Error,
  bounds: JsonBounds = JSON_BOUNDS,
): void {
  const violation = findJsonBoundsViolation(body, bounds);
  if (violation) throw toError(violation);
}

export const MAX_KEY_IN_PATH = 64;

const shown = (segment: PropertyKey): PropertyKey =>
  typeof segment === 'string' && segment.length > MAX_KEY_IN_PATH
    ? `${segment.slice(0, MAX_KEY_IN_PATH)}…`
    : segment;

const messages = (bounds: JsonBounds) => ({
  depth: `nests deeper than ${bounds.maxDepth} levels`,
  entries: `has more than ${bounds.maxEntries} entries`,
  values: `is beyond the ${bounds.maxValues} values a notification may hold`,
});

// ---- a parsed value ------------------------------------------------------------------------------

interface Visit {
  value: unknown;
  /** Containers enclosing this value. */
  depth: number;
  segment: PropertyKey | undefined;
  parent: Visit | undefined;
  /** Stands where the entry past the limit of `parent` would be visited. */
  tooManyEntries?: true;
}

function pathOf(visit: Visit): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let at: Visit | undefined = visit; at?.parent; at = at.parent)
    path.push(shown(at.segment as PropertyKey));
  return path.reverse();
}

/**
 * Depth first in document order, so the violation found is the one the text scan finds first:
 * an oversized container is reported where its first entry past the limit would start.
 */
function walkValue(root: unknown, bounds: JsonBounds): JsonBoundsViolation | undefined {
  const say = messages(bounds);
  const pending: Visit[] = [{ value: root, depth: 0, segment: undefined, parent: undefined }];
  let values = 0;
  for (let visit = pending.pop(); visit; visit = pending.pop()) {
    if (visit.tooManyEntries) return { path: pathOf(visit.parent as Visit), message: say.entries };
    if (++values > bounds.maxValues) return { path: pathOf(visit), message: say.values };
    const { value } = visit;
    if (value === null || typeof value !== 'object') continue;
    if (visit.depth + 1 > bounds.maxDepth) return { path: pathOf(visit), message: say.depth };
    const size = Array.isArray(value) ? value.length : Object.keys(value).length;
    const kept = Math.min(size, bounds.maxEntries);
    const entries: Array<[PropertyKey, unknown]> = Array.isArray(value)
      ? value.slice(0, kept).map((item, index) => [index, item])
      : Object.entries(value).slice(0, kept);
    if (size > kept) {
      pending.push({
        value: undefined,
        depth: visit.depth + 1,
        segment: kept,
        parent: visit,
        tooManyEntries: true,
      });
    }
    // Pushed in reverse: the first entry is visited next.
    for (let index = entries.length - 1; index >= 0; index--) {
      const [segment, child] = entries[index] as [PropertyKey, unknown];
      pending.push({ value: child, depth: visit.depth + 1, segment, parent: visit });
    }
  }
  return undefined;
}

// ---- JSON text -----------------------------------------------------------------------------------

interface OpenContainer {
  kind: 'object' | 'array';
  /** Keys seen (object) or elements started (array). */
  entries: number;
  /** The key whose value comes next, or the index of the current element. */
  segment: PropertyKey | undefined;
  expectingKey: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function scanText(text: string, bounds: JsonBounds): JsonBoundsViolation | undefined {
  const say = messages(bounds);
  const open: OpenContainer[] = [];
  /** The segments from the root to the value starting now. */
  const pathHere = (): PropertyKey[] => open.map((container) => shown(container.segment as PropertyKey));
  let values = 0;
  let expectingValue = true;

  /** A value starts here: counted, and an array's element count moves on. */
  const valueStarts = (): JsonBoundsViolation | undefined => {
    const top = open.at(-1);
    if (top?.kind === 'array') {
      top.segment = top.entries;
      if (++top.entries > bounds.maxEntries) return { path: pathHere().slice(0, -1), message: say.entries };
    }
    if (++values > bounds.maxValues) return { path: pathHere(), message: say.values };
    expectingValue = false;
    return undefined;
  };

  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    switch (code) {
      case QUOTE: {
        const start = index;
        for (index++; index < text.length; index++) {
          const inner = text.charCodeAt(index);
          if (inner === BACKSLASH) index++;
          else if (inner === QUOTE) break;
        }
        const top = open.at(-1);
        if (top?.kind === 'object' && top.expectingKey) {
          if (++top.entries > bounds.maxEntries)
            return { path: pathHere().slice(0, -1), message: say.entries };
          top.segment = decodeKey(text.slice(start, index + 1));
          top.expectingKey = false;
        } else {
          const violation = valueStarts();
          if (violation) return violation;
        }
        break;
      }
      case 0x7b /* { */:
      case 0x5b /* [ */:
        {
          const violation = valueStarts();
          if (violation) return violation;
          const kind = code === 0x7b ? 'object' : 'array';
          open.push({ kind, entries: 0, segment: undefined, expectingKey: kind === 'object' });
          if (open.length > bounds.maxDepth) return { path: pathHere().slice(0, -1), message: say.depth };
          expectingValue = kind === 'array';
          break;
        }
      case 0x7d /* } */:
      case 0x5d /* ] */:
        open.pop();
        expectingValue = false;
        break;
      case 0x2c /* , */:
        {
          const top = open.at(-1);
          if (top?.kind === 'object') top.expectingKey = true;
          else expectingValue = true;
          break;
        }
      case 0x3a /* : */:
        expectingValue = true;
        break;
      case 0x20:
      case 0x09:
      case 0x0a:
      case 0x0d:
        break;
      default:
        // The first character of a number, true, false or null; the rest of it is not a value start.
        if (expectingValue) {
          const violation = valueStarts();
          if (violation) return violation;
        }
    }
  }
  return undefined;
}

function decodeKey(literal: string): string {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return literal.slice(1, -1);
  }
}
