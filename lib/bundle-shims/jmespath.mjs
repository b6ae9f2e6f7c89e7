/**
 * Bundle-time stand-in for `@aws-lambda-powertools/jmespath` (esbuild alias, lib/bundling.ts);
 * tests, the CLI and tsx runs use the package itself.
 *
 * Powertools idempotency reads its key with `search(eventKeyJmesPath, event)`. Our functions key
 * on plain dotted field paths (`detail.eventId`, `detail.verdictId`), for which JMESPath is a walk
 * down the object; the full interpreter (lexer, parser, tree interpreter, built-in and Powertools
 * functions, ≈ 23 KB) never runs. Anything else is refused loudly, never evaluated differently:
 * test/infra/bundling.test.ts compares the answers with the package's.
 */

const DOTTED_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function search(expression, data) {
  if (!DOTTED_PATH.test(expression)) {
    throw new Error(
      `the bundled JMESPath stand-in evaluates dotted field paths only, not "${expression}" (lib/bundle-shims/jmespath.mjs)`,
    );
  }
  let value = data;
  for (const field of expression.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    value = Object.hasOwn(value, field) ? value[field] : null;
    if (value === undefined) return null;
  }
  return value ?? null;
}
