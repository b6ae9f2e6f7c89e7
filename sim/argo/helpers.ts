import { createHash } from 'node:crypto';
import { type RolloutObject, rolloutObject } from '../kube/index.js';

export const ROLLOUT_API = 'argoproj.io/v1alpha1';
/** How long the canary holds maxTrafficWeight between the last step and the stable switch. */
export const END_OF_STEPS_HOLD_MS = 50;
/** Per-Rollout opt-in for promote on Succeeded (lambdas/core/callback/policy.ts). */
export const PROMOTE_ANNOTATION = 'rollout-verifier.io/promote-on-success';

/** A measurement's value for the timeline: short. */
export function clipValue(value: string): string {
  return value.length <= 140 ? value : `${value.slice(0, 139)}…`;
}

/** A pod-template-hash shaped string, deterministic per seed. */
export function podHash(seed: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const digest = createHash('sha256').update(seed).digest();
  return [...digest.subarray(0, 10)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

export function suffix(seed: string): string {
  return podHash(`suffix/${seed}`).slice(0, 5);
}

export const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `arn:aws:sts::…:assumed-role/<role>/<session>` → `<role>`; other users as they are. */
export function shortUser(user: string | undefined): string {
  return user?.match(/assumed-role\/([^/]+)\//)?.[1] ?? user ?? 'someone';
}

/**
 * A new revision of a Rollout as Argo's user applies it: the kube-sim fixture with this name,
 * namespace, revision, replica count and strategy (a merge patch: `null` removes the fixture's
 * own). The server fills uid, resourceVersion and creationTimestamp.
 */
export function revisionObject(spec: {
  name: string;
  namespace: string;
  revision: number;
  replicas: number;
  annotations: Record<string, string> | undefined;
  readinessProbe: boolean;
  strategy: Record<string, unknown>;
}): RolloutObject {
  const { name, namespace, revision } = spec;
  return rolloutObject({
    metadata: {
      name,
      namespace,
      uid: null,
      resourceVersion: null,
      creationTimestamp: null,
      labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': namespace },
      annotations: { 'rollout.argoproj.io/revision': String(revision), ...spec.annotations },
    },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name,
              image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${name}:1.${revision}.0`,
              ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
              // Inside an array a merge patch replaces, not merges: absent means absent.
              ...(spec.readinessProbe
                ? { readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 } }
                : {}),
            },
          ],
        },
      },
      strategy: spec.strategy,
    },
  });
}
