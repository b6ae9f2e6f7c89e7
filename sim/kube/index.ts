/**
 * kube-sim: a loopback HTTPS Kubernetes API server fake for tests and the local demo.
 *
 *   const sim = await startKubeSim({ objects: [rolloutObject()] });
 *   // client: server sim.url, CA sim.caPem, `Authorization: Bearer ${sim.token}`
 *   sim.inject({ method: 'PATCH', path: /\/status$/, status: 429, retryAfterSeconds: 2 });
 *   sim.forbid({ verb: 'create', group: '', resource: 'events' });
 *   expect(sim.object('argoproj.io/v1alpha1', 'rollouts', 'shop', 'checkout')?.status?.abort).toBe(true);
 *   await sim.close();
 */
export { type ClusterCertificates, generateClusterCertificates } from './certificates.js';
export { type CustomResourceType, loadCrds, ROLLOUT_CRD_PATH, rolloutCrd } from './crd-validation.js';
export type { Injection, RbacDenial } from './faults.js';
export { type RolloutObject, type RolloutOverrides, type RolloutStatus, rolloutObject } from './fixtures.js';
export { applyMergePatch, type JsonValue } from './merge-patch.js';
export { type KubeObject, type KubeObjectMeta, pluralOf } from './naming.js';
export {
  type KubeSim,
  type KubeSimOptions,
  type KubeUser,
  type RecordedRequest,
  startKubeSim,
} from './server.js';
export type { KubeStatus, StatusCause } from './status.js';
export type { FieldValidation } from './store.js';
