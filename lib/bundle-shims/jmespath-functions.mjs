/**
 * Bundle-time stand-in for `@aws-lambda-powertools/jmespath/functions` (esbuild alias,
 * lib/bundling.ts): Powertools idempotency builds a `PowertoolsFunctions` for its JMESPath
 * options; the dotted-path stand-in (jmespath.mjs) calls no function, so it holds none.
 */
export class PowertoolsFunctions {}
