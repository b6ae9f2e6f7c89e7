import { z } from 'zod';

/**
 * EKS cluster names: 1–100 characters, alphanumerics, `-` and `_`, starting with an alphanumeric
 * (the `eks:CreateCluster` rule). Checked wherever a cluster name comes in (the webhook's
 * `?cluster=`, settings, the CLI) and before any call, so a name can never reach an ARN, a URL or
 * a log line in a shape we did not expect.
 */
export const ClusterName = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[0-9A-Za-z][0-9A-Za-z_-]*$/, 'must be an EKS cluster name (letters, digits, "-" and "_")');
