/**
 * JSON Merge Patch, RFC 7386 (`application/merge-patch+json`), as the API server applies it to an
 * object: members of a patch object replace or (when null) remove members of the target, objects
 * merge recursively, and anything that is not an object — arrays included — replaces the target whole.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The patched document. Neither argument is modified and the result shares nothing with them. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  return mergeInto(structuredClone(target), patch);
}

// RFC 7386 §2, MergePatch(Target, Patch), on a target this module owns.
function mergeInto(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return structuredClone(patch);
  const result = isJsonObject(target) ? target : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[name];
    } else {
      // Own members only, and defineProperty rather than assignment: a member named "__proto__"
      // is a member like any other and never reaches Object.prototype.
      Object.defineProperty(result, name, {
        value: mergeInto(Object.hasOwn(result, name) ? result[name] : undefined, value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return result;
}
