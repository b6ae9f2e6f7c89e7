import { vi } from 'vitest';
import { CONCURRENCY, describeElbv2FaultMatrix } from '../support/elbv2-fault-matrix.js';

vi.setConfig({ maxConcurrency: CONCURRENCY });

// Every call × fault at the moment the field failure happened; the other timings run on the
// verify handler's path, which shares everything with the CLI's but its converge settings.
describeElbv2FaultMatrix('CLI', ['after a lagging first look']);
