/**
 * Bundle-time stand-in for `@aws-lambda-powertools/parser/envelopes/eventbridge` (esbuild alias,
 * lib/bundling.ts); tests, the CLI and tsx runs use the package itself.
 *
 * The package's envelope is these lines, but it imports the parser's schema barrel
 * (`../schemas/index.js`), whose top-level zod schemas for every AWS event source esbuild cannot
 * drop (≈ 27 KB). This is the same envelope over the EventBridge schema alone: same schema, same
 * ParseError and messages, same discriminator.
 *
 * Mirrors lib/esm/envelopes/eventbridge.js of @aws-lambda-powertools/parser 2.35.0, sha256
 * 30eb2668da93d10ff3515f0225353fdfea85185e8ac4c42a52a5c4c3dfec7921: test/infra/bundling.test.ts
 * fails when that file changes, and compares the two envelopes' answers.
 */
import { ParseError } from '@aws-lambda-powertools/parser/errors';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';

/** The package's `envelopeDiscriminator` (envelopes/envelope.js): a registered symbol. */
const envelopeDiscriminator = Symbol.for('returnType');

/** Envelope for the EventBridge schema that extracts and parses data from the `detail` key. */
export const EventBridgeEnvelope = {
  [envelopeDiscriminator]: 'object',
  parse(data, schema) {
    try {
      return EventBridgeSchema.extend({ detail: schema }).parse(data).detail;
    } catch (error) {
      throw new ParseError('Failed to parse EventBridge envelope', { cause: error });
    }
  },
  safeParse(data, schema) {
    const parsedResult = EventBridgeSchema.extend({ detail: schema }).safeParse(data);
    if (!parsedResult.success) {
      return {
        success: false,
        error: new ParseError('Failed to parse EventBridge envelope', { cause: parsedResult.error }),
        originalEvent: data,
      };
    }
    return { success: true, data: parsedResult.data.detail };
  },
};
