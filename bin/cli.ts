#!/usr/bin/env node
// The installed `rollout-verifier` command (compiled to dist/bin/cli.js); `npm run cli` runs it from the sources.
import { runCli } from '../cli/program.js';

process.exitCode = await runCli(process.argv.slice(2));
