import { vi } from 'vitest';
import { describeElbv2FaultMatrix } from '../support/elbv2-fault-matrix.js';

// The cases mostly wait for their deadline, each with its own simulator and proxy: run many at once.
vi.setConfig({ maxConcurrency: 56 });

// Every call × fault at the moment the field failure happened; the other timings run on the
// verify handler's path, which shares everything with the CLI's but its converge settings.
describeElbv2FaultMatrix('CLI', ['after a lagging first look']);
