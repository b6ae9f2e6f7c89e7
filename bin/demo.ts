import { renderDemo, runDemo } from '../demo/run.js';

const json = process.argv.includes('--json');
const result = await runDemo();
process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${renderDemo(result)}\n`);
process.exitCode = result.ok ? 0 : 1;
