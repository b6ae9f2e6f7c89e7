import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventSchemaDocuments } from '../lambdas/core/contracts/json-schemas.js';

/**
 * Writes docs/events/*.schema.json from the zod contracts. `--check` fails when the committed
 * files are out of date, so consumers never read a schema the code no longer honours.
 */
const outputDirectory = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'events');
const check = process.argv.includes('--check');
let stale = 0;

await mkdir(outputDirectory, { recursive: true });
for (const [fileName, schema] of Object.entries(eventSchemaDocuments())) {
  const path = join(outputDirectory, fileName);
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (check) {
    const current = await readFile(path, 'utf8').catch(() => '');
    if (current !== text) {
      stale++;
      console.error(`${path} is out of date: run npm run schemas`);
    }
  } else {
    await writeFile(path, text);
    console.log(`wrote ${path}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
