#!/usr/bin/env node
// The installed `rollout-verifier` command: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
