import { vi } from 'vitest';
import { describeElbv2FaultMatrix } from '../support/elbv2-fault-matrix.js';

// The cases mostly wait for their deadline, each with its own simulator and proxy: run many at once.
vi.setConfig({ maxConcurrency: 56 });

describeElbv2FaultMatrix('verify handler');
