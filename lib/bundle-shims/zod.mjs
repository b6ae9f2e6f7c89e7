/**
 * Bundle-time stand-in for `zod` (esbuild alias, lib/bundling.ts); tests, the CLI and tsx runs use
 * the package itself.
 *
 * zod's entry does `import * as z from "./v4/classic/external.js"; export { z }`. esbuild cannot
 * shake a namespace re-exported as a binding (colinhacks/zod#6597): `import { z } from 'zod'`, as
 * the project and Powertools parser write it, put all of zod in every bundle, 50+ locales
 * included (≈ 455 KB of ≈ 100 KB used). `import * as z from 'zod'` shakes fine, but Powertools
 * parser cannot be changed.
 *
 * So this module exports zod's named exports unchanged (from the same files, tree-shaken per
 * export) and a `z` (also the default export) with exactly the members the bundled code reads:
 * each one is zod's own function or namespace, nothing is wrapped. A member missing here would
 * be `undefined` at run time, so test/infra/bundling.test.ts asks esbuild which members each
 * bundle reads (bench/bundles.ts, zodMembersReadBy) and fails naming any that is not listed.
 * Add it here when it does.
 *
 * The relative path is the zod package the rest of the project resolves (checked by the test).
 */
import * as zod from '../../node_modules/zod/v4/classic/external.js';

export * from '../../node_modules/zod/v4/classic/external.js';

export const z = Object.freeze({
  array: zod.array,
  boolean: zod.boolean,
  coerce: zod.coerce,
  discriminatedUnion: zod.discriminatedUnion,
  enum: zod.enum,
  iso: zod.iso,
  literal: zod.literal,
  NEVER: zod.NEVER,
  null: zod.null,
  number: zod.number,
  object: zod.object,
  preprocess: zod.preprocess,
  prettifyError: zod.prettifyError,
  record: zod.record,
  string: zod.string,
  union: zod.union,
  unknown: zod.unknown,
});

export default z;
