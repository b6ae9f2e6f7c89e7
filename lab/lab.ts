import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ArgoController,
  type ArgoVersion,
  installCrds,
  installVerifierClusterSide,
  startArgoController,
} from './argo/controller.js';
import { type Moto, startMoto } from './aws/moto.js';
import { type ControlPlane, startControlPlane } from './cluster/control-plane.js';
import { cachePaths } from './paths.js';
import { stopAll } from './runtime/processes.js';
import { LoadBalancerControllerStandIn } from './standins/load-balancer-controller.js';
import { deployVerifier, LAB_CLUSTER, type VerifierDeployment } from './verifier/deployment.js';

export interface LabOptions {
  argoVersion: ArgoVersion;
  /** The verify function's VERIFY_DEADLINE_SECONDS. */
  deadlineSeconds?: number;
  log?: (line: string) => void;
  runDir?: string;
}

export interface Lab {
  runDir: string;
  control: ControlPlane;
  moto: Moto;
  verifier: VerifierDeployment;
  loadBalancerController: LoadBalancerControllerStandIn;
  argo: ArgoController;
  /** Connection facts for a client of the lab (kube endpoint, CA, tokens; moto endpoint). */
  endpoints: {
    kubeServer: string;
    kubeCaPem: string;
    tokens: Record<string, string>;
    motoEndpoint: string;
    webhookUrl: string;
  };
  /** Replaces the running Argo Rollouts controller by another release (its CRDs first). */
  useArgo(version: ArgoVersion): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Everything on 127.0.0.1, in dependency order: moto; etcd, kube-apiserver, controller-manager,
 * scheduler, kwok; the verifier as deployed (bundles, Function URL host, rules on moto's bus);
 * the cluster side of the verifier (deploy/cluster) and the load balancer controller stand-in;
 * the Argo Rollouts controller of `argoVersion`. Binaries must have been built (lab/build).
 */
export async function startLab(options: LabOptions): Promise<Lab> {
  const log = options.log ?? (() => {});
  const runDir = options.runDir ?? join(cachePaths.runs, new Date().toISOString().replace(/[:.]/g, '-'));
  await mkdir(runDir, { recursive: true });
  try {
    const [moto, control] = await Promise.all([startMoto(runDir, log), startControlPlane(runDir)]);
    log(`control plane ${control.gitVersion} at ${control.server}; moto ${moto.version} at ${moto.endpoint}`);
    const verifier = await deployVerifier({
      runDir,
      moto,
      cluster: control,
      deadlineSeconds: options.deadlineSeconds ?? 20,
      log,
    });
    await installVerifierClusterSide(control.admin, {
      url: verifier.webhookUrl,
      token: verifier.webhookToken,
    });
    const loadBalancerController = new LoadBalancerControllerStandIn(
      control.admin,
      moto.endpoint,
      LAB_CLUSTER,
      log,
    );
    loadBalancerController.start();
    await installCrds(control.admin, options.argoVersion);
    let argo = await startArgoController(control, options.argoVersion, runDir);
    log(`argo-rollouts ${options.argoVersion} running`);
    const lab: Lab = {
      runDir,
      control,
      moto,
      verifier,
      loadBalancerController,
      get argo() {
        return argo;
      },
      endpoints: {
        kubeServer: control.server,
        kubeCaPem: control.caPem,
        tokens: Object.fromEntries(
          Object.entries(control.identities).map(([name, who]) => [name, who.token]),
        ),
        motoEndpoint: moto.endpoint,
        webhookUrl: verifier.webhookUrl,
      },
      async useArgo(version) {
        await argo.stop();
        await installCrds(control.admin, version);
        argo = await startArgoController(control, version, runDir);
        log(`argo-rollouts ${version} running`);
      },
      async stop() {
        await argo.stop();
        await loadBalancerController.stop();
        await verifier.stop();
        await control.stop();
        await moto.stop();
      },
    };
    return lab;
  } catch (error) {
    await stopAll();
    throw error;
  }
}
