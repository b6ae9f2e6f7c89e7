import { vi } from 'vitest';
import { CONCURRENCY, describeElbv2FaultMatrix } from '../support/elbv2-fault-matrix.js';

vi.setConfig({ maxConcurrency: CONCURRENCY });

describeElbv2FaultMatrix('verify handler');
