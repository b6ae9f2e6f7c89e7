import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ElbApi } from './elb-api.js';

export interface ElbClientOptions {
  region?: string;
  /** Overrides AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2, which the SDK reads itself. */
  endpoint?: string;
  maxAttempts?: number;
}

/**
 * Adaptive retry: on Throttling the client also slows its own sending rate, which is what a
 * shared per-account Describe* budget needs. Throttling that outlasts the retries surfaces as an
 * Inconclusive observation, never as a mismatch.
 */
export function createElbApi(options: ElbClientOptions = {}): ElbApi {
  return new ElbApi(
    new ElasticLoadBalancingV2Client({
      region: options.region,
      endpoint: options.endpoint,
      retryMode: 'adaptive',
      maxAttempts: options.maxAttempts ?? 5,
    }),
  );
}
