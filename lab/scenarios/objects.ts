import type { KubeObject } from '../kube/client.js';

/**
 * Builders for the objects a scenario puts into the real API server: what an application team
 * would apply. Pods listen on 8080 behind Services on `port` (80 unless said otherwise).
 */

export const PROMOTE_ON_SUCCESS = { 'rollout-verifier.io/promote-on-success': 'true' };

export function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export function service(ns: string, name: string, app: string, port = 80): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: {
      selector: { app },
      ports: [{ name: 'http', port, targetPort: 8080, protocol: 'TCP' }],
    },
  };
}

/** An ALB Ingress whose one path goes to `backend`: through Argo's action annotation, or plainly. */
export function albIngress(
  ns: string,
  name: string,
  backend: string,
  options: { useAnnotation: boolean; port?: number },
): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: ns,
      annotations: {
        'alb.ingress.kubernetes.io/scheme': 'internet-facing',
        'alb.ingress.kubernetes.io/target-type': 'ip',
      },
    },
    spec: {
      ingressClassName: 'alb',
      rules: [
        {
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: {
                  service: {
                    name: backend,
                    port: options.useAnnotation ? { name: 'use-annotation' } : { number: options.port ?? 80 },
                  },
                },
              },
            ],
          },
        },
      ],
    },
  };
}

export function podTemplate(app: string, image: string) {
  return {
    metadata: { labels: { app } },
    spec: {
      containers: [{ name: app, image, ports: [{ name: 'http', containerPort: 8080 }] }],
    },
  };
}

export function rollout(
  ns: string,
  name: string,
  strategy: Record<string, unknown>,
  options: { replicas?: number; annotations?: Record<string, string>; image?: string } = {},
): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace: ns, annotations: { ...options.annotations } },
    spec: {
      replicas: options.replicas ?? 4,
      revisionHistoryLimit: 3,
      selector: { matchLabels: { app: name } },
      template: podTemplate(name, options.image ?? `registry.lab.invalid/${name}:1`),
      strategy,
    },
  };
}

export function virtualService(
  ns: string,
  name: string,
  http: Array<Record<string, unknown>>,
  options: { apiVersion?: string; gateways?: string[]; hosts?: string[] } = {},
): KubeObject {
  return {
    apiVersion: options.apiVersion ?? 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name, namespace: ns },
    spec: {
      hosts: options.hosts ?? [name],
      ...(options.gateways ? { gateways: options.gateways } : {}),
      http,
    },
  };
}

export function destinationRule(ns: string, name: string, host: string, subsets: string[]): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'DestinationRule',
    metadata: { name, namespace: ns },
    spec: { host, subsets: subsets.map((subset) => ({ name: subset, labels: {} })) },
  };
}

export function ambassadorMapping(ns: string, name: string, prefix: string, serviceUrl: string): KubeObject {
  return {
    apiVersion: 'getambassador.io/v2',
    kind: 'Mapping',
    metadata: { name, namespace: ns },
    spec: { prefix, service: serviceUrl },
  };
}
