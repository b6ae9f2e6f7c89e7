import type { RolloutTrigger } from '../../contract/event-catalog.js';
import { notificationOf } from '../argo-driver.js';
import type { IngressAlb } from '../elbv2/index.js';
import type { KubeObject, RolloutObject } from '../kube/index.js';
import { podHash, ROLLOUT_API, shortUser, suffix } from './helpers.js';
import type { ClusterPorts, Pod, SimulatedRollout } from './options.js';

export abstract class RolloutBase implements SimulatedRollout {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  readonly revision: number;
  readonly stableHash: string;
  readonly canaryHash: string;
  /** The uid kube-sim gave the Rollout. */
  uid = '';
  alb!: IngressAlb;
  protected stablePods: Pod[] = [];
  protected newPods: Pod[] = [];

  constructor(
    protected readonly ports: ClusterPorts,
    options: { namespace?: string; name: string; revision?: number },
    protected readonly network: number,
  ) {
    this.namespace = options.namespace ?? 'shop';
    this.name = options.name;
    this.key = `${this.namespace}/${this.name}`;
    this.revision = options.revision ?? 3;
    this.stableHash = podHash(`${this.key}/${this.revision - 1}`);
    this.canaryHash = podHash(`${this.key}/${this.revision}`);
  }

  abstract reconcile(): Promise<boolean>;

  protected note(what: string): void {
    this.ports.note(this.key, what);
  }

  live(): RolloutObject {
    const object = this.ports.kube.object(ROLLOUT_API, 'rollouts', this.namespace, this.name);
    if (!object) throw new Error(`the Rollout ${this.key} is gone from the cluster`);
    return object as RolloutObject;
  }

  /** Argo's controller writing the whole Rollout (status included) after a transition. */
  protected write(rollout: RolloutObject): RolloutObject {
    const stored = this.ports.kube.put(rollout) as RolloutObject;
    this.uid = String(stored.metadata.uid);
    return stored;
  }

  protected async send(trigger: RolloutTrigger, snapshot: RolloutObject, twice = false): Promise<void> {
    const body = notificationOf(trigger, snapshot);
    await this.ports.notify(body);
    if (!twice) return;
    this.note(
      'Argo: the webhook client timed out waiting for the answer and sends the same notification again',
    );
    await this.ports.notify(body);
  }

  protected pods(kind: 'stable' | 'new', count: number, from: Pod[]): Pod[] {
    const pods = [...from];
    const hash = kind === 'stable' ? this.stableHash : this.canaryHash;
    while (pods.length < count) {
      const n = pods.length;
      pods.push({
        name: `${this.name}-${hash}-${suffix(`${hash}/${n}`)}`,
        // Stable pods get their own range: the ALB rollouts take theirs from the target group.
        ip: `10.${kind === 'stable' ? 2 : 1}.${this.network}.${n + 11}`,
      });
    }
    return pods;
  }

  /**
   * The Service itself, once: port `servicePort` named `http`, targeting the pods' `http` port
   * (8080), the way the EndpointSlices below resolve it.
   */
  protected service(name: string, servicePort = 80): void {
    if (this.services.has(name)) return;
    this.services.add(name);
    this.ports.kube.put({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: this.namespace },
      spec: { ports: [{ name: 'http', port: servicePort, targetPort: 'http', protocol: 'TCP' }] },
    });
  }

  private readonly services = new Set<string>();

  /** The EndpointSlice the EndpointSlice controller keeps for a Service: these pods, ready. */
  protected endpointSlice(service: string, pods: Pod[]): void {
    this.service(service);
    const slice: KubeObject = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${service}-${suffix(service)}`,
        namespace: this.namespace,
        labels: {
          'kubernetes.io/service-name': service,
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        },
      },
      addressType: 'IPv4',
      endpoints: pods.map((pod) => ({
        addresses: [pod.ip],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace: this.namespace, name: pod.name },
      })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    };
    this.ports.kube.put(slice);
  }

  /** The load balancer controller: ModifyRule on every listener rule of the Ingress. */
  protected applyWeights(canaryWeight: number, options: { throttled?: boolean } = {}): void {
    const current = this.ports.elb.ruleWeights(this.alb.ruleArns[0] ?? '', 'desired');
    const shown = `canary ${current[this.alb.canaryTargetGroupArn] ?? 0} / stable ${current[this.alb.stableTargetGroupArn] ?? 0}`;
    if (options.throttled) {
      this.note(
        `load balancer controller: ModifyRule throttled (Rate exceeded), listener rules stay at ${shown}`,
      );
      return;
    }
    if (current[this.alb.canaryTargetGroupArn] === canaryWeight) {
      this.note(`load balancer controller: listener rules already at ${shown}`);
      return;
    }
    for (const ruleArn of this.alb.ruleArns) {
      this.ports.elb.setRuleWeights(ruleArn, {
        [this.alb.stableTargetGroupArn]: 100 - canaryWeight,
        [this.alb.canaryTargetGroupArn]: canaryWeight,
      });
    }
    this.note(
      `load balancer controller: ${this.alb.ruleArns.length} listener rule(s) set to canary ${canaryWeight} / stable ${100 - canaryWeight}`,
    );
  }

  /** Who last wrote `status` with a member matching `test` (from the kube-sim request log). */
  protected lastStatusWriter(test: (status: Record<string, unknown>) => boolean): string {
    const path = `/apis/argoproj.io/v1alpha1/namespaces/${this.namespace}/rollouts/${this.name}/status`;
    const request = [...this.ports.kube.requests]
      .reverse()
      .find(
        (candidate) =>
          candidate.method === 'PATCH' &&
          candidate.path === path &&
          candidate.status < 300 &&
          test(
            ((candidate.body as { status?: Record<string, unknown> })?.status ?? {}) as Record<
              string,
              unknown
            >,
          ),
      );
    return shortUser(request?.user);
  }
}
