import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ROLLOUT_DETAIL_TYPES, type RolloutTrigger } from '../../contract/event-catalog.js';
import { normalizeNotification } from '../../lambdas/core/normalize/index.js';
import { AnalysisQuery } from '../../lambdas/gate/gate.js';
import { DEFAULTS } from '../../lib/settings.js';
import { analysisTemplatesIn, evaluateResult } from '../../sim/argo-analysis.js';
import { ROLLOUT_CRD_PATH } from '../../sim/kube/crd-validation.js';
import {
  type Kustomization,
  kustomizeBuild,
  type Manifest,
  readDocuments,
  readKustomization,
} from '../../sim/kustomize.js';
import { grantsOf, rbacAuthorizer } from '../../sim/rbac.js';

/**
 * deploy/cluster/ against the contracts it has to honour: the triggers the project subscribes to
 * (contract/event-catalog.ts), the ingest body the normalizer accepts, the Kubernetes groups the
 * stack's EKS access entries carry (lib/settings.ts), and the Rollout CRD the callback writes to.
 */

const CLUSTER_DIR = new URL('../../deploy/cluster/', import.meta.url);
const FIXTURES_DIR = new URL('../fixtures/notifications/', import.meta.url);

const CONTROLLER_NAMESPACE = 'argo-rollouts';
const SERVICE = 'rollout-verifier';
const TRIGGERS = Object.keys(ROLLOUT_DETAIL_TYPES) as RolloutTrigger[];
const CALLBACK_GROUP = DEFAULTS.kubernetesGroups.callback;
const OBSERVER_GROUP = DEFAULTS.kubernetesGroups.verify;
const PROMOTE_ROLE = 'rollout-verifier-promote';

// ---- loading ------------------------------------------------------------------------------------

const built = (dir: URL, overlay?: Omit<Kustomization, 'apiVersion'>) =>
  kustomizeBuild(dir, overlay).map(({ manifest }) => manifest);

const configMap = readDocuments(new URL('argo-rollouts-notification-configmap.yaml', CLUSTER_DIR))[0]!;
const data = configMap.data ?? {};
const secretTemplate = readDocuments(new URL('argo-rollouts-notification-secret.yaml', CLUSTER_DIR))[0]!;
const clusterRoles = readDocuments(new URL('clusterroles.yaml', CLUSTER_DIR));
const clusterRoleBindings = readDocuments(new URL('clusterrolebindings.yaml', CLUSTER_DIR));

function dataValue(key: string): string {
  const value = data[key];
  if (value === undefined) throw new Error(`argo-rollouts-notification-configmap has no data key ${key}`);
  return value;
}

function clusterRole(name: string): Manifest {
  const role = clusterRoles.find((manifest) => manifest.metadata.name === name);
  if (!role) throw new Error(`no ClusterRole ${name} in clusterroles.yaml`);
  return role;
}

// ---- rendering ----------------------------------------------------------------------------------

interface WebhookTemplate {
  webhook: Record<string, { method?: string; body?: string; path?: string }>;
}

const TO_JSON_ROLLOUT = /^\{\{-?\s*toJson\s+\.rollout\s*-?\}\}$/;

function template(trigger: RolloutTrigger): WebhookTemplate {
  return parse(dataValue(`template.${SERVICE}-${trigger}`)) as WebhookTemplate;
}

function templateBody(trigger: RolloutTrigger): string {
  const body = template(trigger).webhook[SERVICE]?.body;
  if (body === undefined) throw new Error(`template for ${trigger} has no ${SERVICE} webhook body`);
  return body;
}

/**
 * What the controller sends for `rollout`: the body with its one action, `{{toJson .rollout}}`,
 * evaluated. Anything else in `{{ }}` would need Go's text/template, so it fails here instead.
 */
function render(trigger: RolloutTrigger, rollout: unknown): string {
  const body = templateBody(trigger);
  const actions = body.match(/\{\{.*?\}\}/gs) ?? [];
  expect(actions, `template for ${trigger}`).toHaveLength(1);
  expect(actions[0], `template for ${trigger}`).toMatch(TO_JSON_ROLLOUT);
  return body.replace(actions[0]!, JSON.stringify(rollout));
}

interface NotificationFixture {
  name: string;
  body: { trigger: RolloutTrigger; rollout: Record<string, unknown> };
}

/** The fixture bodies that are meant to be valid (invalid-* ones test the normalizer's errors). */
const fixtures: NotificationFixture[] = readdirSync(FIXTURES_DIR)
  .filter((name) => name.endsWith('.json') && !name.startsWith('invalid-'))
  .map((name) => ({
    name,
    body: JSON.parse(readFileSync(new URL(name, FIXTURES_DIR), 'utf8')),
  }));

const sample = fixtures.find((fixture) => fixture.name === 'alb-step-completed-setweight.json')!.body.rollout;
const context = { receivedAt: new Date('2025-11-20T10:03:00.000Z'), cluster: 'prod-eu-west-1' };

// ---- tests --------------------------------------------------------------------------------------

describe('deploy/cluster kustomization', () => {
  it('lists files that exist and parse: the ConfigMap in the controller namespace and cluster-scoped RBAC', () => {
    const kustomization = readKustomization(CLUSTER_DIR);
    expect(kustomization.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(kustomization.kind).toBe('Kustomization');
    expect(kustomization.namespace).toBe(CONTROLLER_NAMESPACE);
    expect(kustomization.components, 'promote is opt-in').toBeUndefined();

    const objects = kustomizeBuild(CLUSTER_DIR);
    expect(objects.map(({ manifest }) => `${manifest.kind}/${manifest.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/argo-rollouts-notification-configmap',
        `ClusterRole/${CALLBACK_GROUP}`,
        `ClusterRole/${OBSERVER_GROUP}`,
        `ClusterRoleBinding/${CALLBACK_GROUP}`,
        `ClusterRoleBinding/${OBSERVER_GROUP}`,
      ].sort(),
    );
    for (const { file, manifest } of objects) {
      if (manifest.kind.startsWith('Cluster')) {
        expect(manifest.metadata.namespace, `${file}: ${manifest.kind} is cluster-scoped`).toBeUndefined();
        expect(manifest.apiVersion).toBe('rbac.authorization.k8s.io/v1');
      } else {
        expect(manifest.apiVersion).toBe('v1');
        expect(manifest.metadata.namespace, `${file}: ${manifest.kind}`).toBe(CONTROLLER_NAMESPACE);
      }
    }
    // How to switch promote on is written where it is switched on.
    expect(readFileSync(new URL('kustomization.yaml', CLUSTER_DIR), 'utf8')).toMatch(
      /# components:\n#\s+- promote/,
    );
  });

  it('keeps the Secret template out, so re-applying never writes the placeholders over the real values', () => {
    expect(built(CLUSTER_DIR).filter((manifest) => manifest.kind === 'Secret')).toEqual([]);
    expect(secretTemplate).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'argo-rollouts-notification-secret', namespace: CONTROLLER_NAMESPACE },
    });
  });

  it('promote/ is a Component adding one ClusterRole and its ClusterRoleBinding to the callback group', () => {
    expect(readKustomization(new URL('promote/', CLUSTER_DIR)).kind).toBe('Component');
    const base = built(CLUSTER_DIR);
    const withPromote = built(CLUSTER_DIR, { ...readKustomization(CLUSTER_DIR), components: ['promote'] });
    const added = withPromote.filter(
      (manifest) => !base.some((other) => JSON.stringify(other) === JSON.stringify(manifest)),
    );
    expect(added.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`)).toEqual([
      `ClusterRole/${PROMOTE_ROLE}`,
      `ClusterRoleBinding/${PROMOTE_ROLE}`,
    ]);
    const [role, binding] = added;
    expect(grantsOf(role?.rules ?? [])).toEqual(['argoproj.io/rollouts:patch']);
    expect(role?.metadata.namespace).toBeUndefined();
    expect(binding?.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: PROMOTE_ROLE,
    });
    expect(binding?.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: CALLBACK_GROUP },
    ]);
  });

  it('offers namespaced RBAC: RoleBindings to the same ClusterRoles, and a namespaced promote Component', () => {
    const dir = new URL('namespaced/', CLUSTER_DIR);
    const kustomization = readKustomization(dir);
    expect(kustomization.namespace, 'the overlay per application namespace sets it').toBeUndefined();
    const roleBindings = built(dir);
    expect(roleBindings.map((binding) => binding.kind)).toEqual(['RoleBinding', 'RoleBinding']);
    for (const binding of roleBindings) {
      expect(binding.metadata.namespace).toBeUndefined();
      const clusterBinding = clusterRoleBindings.find((b) => b.metadata.name === binding.metadata.name);
      expect(clusterBinding, `a ClusterRoleBinding named ${binding.metadata.name}`).toBeDefined();
      expect(binding.roleRef).toEqual(clusterBinding!.roleRef);
      expect(binding.subjects).toEqual(clusterBinding!.subjects);
      clusterRole(binding.roleRef!.name);
    }

    expect(readKustomization(new URL('promote/', dir)).kind).toBe('Component');
    const overlay = built(CLUSTER_DIR, {
      kind: 'Kustomization',
      namespace: 'shop',
      resources: ['namespaced'],
      components: ['namespaced/promote'],
    });
    expect(
      overlay.map((manifest) => `${manifest.kind}/${manifest.metadata.namespace}/${manifest.metadata.name}`),
    ).toEqual([
      `RoleBinding/shop/${CALLBACK_GROUP}`,
      `RoleBinding/shop/${OBSERVER_GROUP}`,
      `Role/shop/${PROMOTE_ROLE}`,
      `RoleBinding/shop/${PROMOTE_ROLE}`,
    ]);
    const [, , role, binding] = overlay;
    expect(grantsOf(role?.rules ?? [])).toEqual(['argoproj.io/rollouts:patch']);
    expect(binding?.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: PROMOTE_ROLE,
    });
    expect(binding?.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: CALLBACK_GROUP },
    ]);
  });
});

describe('analysis/: the analysis gate for Argo web metrics (docs/analysis-gate.md)', () => {
  const dir = new URL('analysis/', CLUSTER_DIR);
  const templates = analysisTemplatesIn(readFileSync(new URL('clusteranalysistemplates.yaml', dir), 'utf8'));
  const gateSecret = readDocuments(new URL('gate-secret.yaml', dir))[0]!;

  it('is an opt-in Component adding two cluster-scoped ClusterAnalysisTemplates, and no Secret', () => {
    expect(readKustomization(dir).kind).toBe('Component');
    const base = built(CLUSTER_DIR);
    const withAnalysis = built(CLUSTER_DIR, { ...readKustomization(CLUSTER_DIR), components: ['analysis'] });
    const added = withAnalysis.filter(
      (manifest) => !base.some((other) => JSON.stringify(other) === JSON.stringify(manifest)),
    );
    expect(
      added.map((manifest) => `${manifest.apiVersion} ${manifest.kind}/${manifest.metadata.name}`),
    ).toEqual([
      'argoproj.io/v1alpha1 ClusterAnalysisTemplate/rollout-verifier',
      'argoproj.io/v1alpha1 ClusterAnalysisTemplate/rollout-verifier-background',
    ]);
    expect(added.every((manifest) => manifest.metadata.namespace === undefined)).toBe(true);
    expect(readFileSync(new URL('kustomization.yaml', CLUSTER_DIR), 'utf8')).toMatch(
      /# components:\n#\s+- analysis/,
    );
  });

  it('calls GET <gate>/analysis with exactly the query the gate accepts, and the cluster token as bearer', () => {
    for (const template of templates) {
      const [metric] = template.spec.metrics;
      const web = metric!.provider.web;
      const url = new URL(
        web.url
          .replace(/\{\{args\.gate-url\}\}/, 'https://gate.example/')
          .replace(/\{\{args\.([a-z-]+)\}\}/g, 'x'),
      );
      expect(url.pathname).toBe('/analysis');
      const names = [...url.searchParams.keys()];
      expect(names.filter((name) => name !== 'cluster').every((name) => name in AnalysisQuery.shape)).toBe(
        true,
      );
      expect(names).toEqual(expect.arrayContaining(['cluster', 'namespace', 'name', 'podTemplateHash']));
      expect(web.method ?? 'GET').toBe('GET');
      expect(web.headers).toEqual([{ key: 'Authorization', value: 'Bearer {{args.gate-token}}' }]);
      expect(web.jsonPath, 'the whole body is `result`').toBeUndefined();
      // Above the verification deadline, below the gate function's timeout.
      expect(web.timeoutSeconds).toBeGreaterThan(DEFAULTS.deadlineSeconds);
      expect(web.timeoutSeconds).toBeLessThan(DEFAULTS.gateTimeout.toSeconds());
    }
    expect(
      templates.map((template) =>
        new URL(
          template.spec.metrics[0]!.provider.web.url.replace(/\{\{[^}]+\}\}/g, 'x').replace(
            /^x/,
            'https://g/',
          ),
        ).searchParams.get('fresh'),
      ),
    ).toEqual([null, 'true']);
  });

  it('maps the verdicts onto Argo’s phases: Succeeded → Successful, Failed → Failed, Inconclusive → Inconclusive', () => {
    for (const template of templates) {
      const metric = template.spec.metrics[0]!;
      expect(evaluateResult({ verdict: 'Succeeded', findings: [] }, metric)).toBe('Successful');
      expect(evaluateResult({ verdict: 'Failed', findings: [] }, metric)).toBe('Failed');
      expect(evaluateResult({ verdict: 'Inconclusive', findings: [] }, metric)).toBe('Inconclusive');
      expect(metric.failureLimit ?? 0).toBe(0);
    }
    expect(templates[0]!.spec.metrics[0]!.count).toBe(1);
  });

  it('reads the gate URL, the cluster and the token from the Secret gate-secret.yaml describes', () => {
    for (const template of templates) {
      const fromSecret = (template.spec.args ?? []).filter((arg) => arg.valueFrom?.secretKeyRef);
      expect(new Set(fromSecret.map((arg) => arg.valueFrom?.secretKeyRef?.name))).toEqual(
        new Set([gateSecret.metadata.name]),
      );
      expect(fromSecret.map((arg) => arg.valueFrom?.secretKeyRef?.key).sort()).toEqual(
        Object.keys(gateSecret.stringData ?? {}).sort(),
      );
      // The rollout supplies the rest (fieldRef, podTemplateHashValue): no value in the template.
      expect((template.spec.args ?? []).filter((arg) => !arg.valueFrom).map((arg) => arg.name)).toEqual([
        'namespace',
        'rollout',
        'canary-hash',
      ]);
    }
  });
});

describe('notifications ConfigMap', () => {
  it('has exactly one trigger and one template per subscribed trigger, plus the service and subscriptions', () => {
    expect(configMap.metadata).toMatchObject({
      name: 'argo-rollouts-notification-configmap',
      namespace: CONTROLLER_NAMESPACE,
    });
    const keys = Object.keys(data).sort();
    expect(keys).toEqual(
      [
        `service.webhook.${SERVICE}`,
        'subscriptions',
        ...TRIGGERS.map((trigger) => `trigger.${trigger}`),
        ...TRIGGERS.map((trigger) => `template.${SERVICE}-${trigger}`),
      ].sort(),
    );
  });

  it.each(TRIGGERS)('trigger %s sends its own template, unconditionally', (trigger) => {
    expect(parse(dataValue(`trigger.${trigger}`))).toEqual([{ send: [`${SERVICE}-${trigger}`] }]);
  });

  it.each(TRIGGERS)('template for %s POSTs to the rollout-verifier webhook, with no path', (trigger) => {
    const { webhook } = template(trigger);
    expect(Object.keys(webhook)).toEqual([SERVICE]);
    expect(webhook[SERVICE]!.method).toBe('POST');
    // A path would be appended to the url, after its ?cluster= query.
    expect(webhook[SERVICE]!.path).toBeUndefined();
  });

  it.each(TRIGGERS)(
    'template for %s renders {"trigger": <its trigger>, "rollout": <the Rollout>}',
    (trigger) => {
      const body = JSON.parse(render(trigger, sample));
      expect(body).toEqual({ trigger, rollout: sample });
    },
  );

  it.each(TRIGGERS)('the body rendered for %s normalizes: template and ingest contract agree', (trigger) => {
    const detail = normalizeNotification(render(trigger, sample), context);
    expect(detail.trigger).toBe(trigger);
    expect(detail.cluster).toBe(context.cluster);
    expect(detail.rollout).toMatchObject({ namespace: 'shop', name: 'checkout', revision: 5 });
  });

  it('reproduces every valid notification fixture from its rollout, through the template of its trigger', () => {
    expect(new Set(fixtures.map((fixture) => fixture.body.trigger))).toEqual(new Set(TRIGGERS));
    for (const { name, body } of fixtures) {
      const rendered = render(body.trigger, body.rollout);
      expect(JSON.parse(rendered), name).toEqual(body);
      expect(normalizeNotification(rendered, context).trigger, name).toBe(body.trigger);
    }
  });

  it('configures the webhook service: secret url, bearer token, JSON, no string retry waits', () => {
    const service = parse(dataValue(`service.webhook.${SERVICE}`)) as Record<string, unknown>;
    expect(service.url).toBe('$rollout-verifier-url');
    expect(service.headers).toEqual(
      expect.arrayContaining([
        { name: 'Authorization', value: 'Bearer $rollout-verifier-token' },
        { name: 'Content-Type', value: 'application/json' },
      ]),
    );
    expect(Object.keys(service).sort()).toEqual(['headers', 'retryMax', 'url']);
    expect(Number.isInteger(service.retryMax) && (service.retryMax as number) >= 1).toBe(true);
    // retryWaitMin/Max are time.Durations: a string value fails to decode and kills the service.
    for (const [key, value] of Object.entries(data)) {
      expect(value, key).not.toMatch(/retryWait(Min|Max)/);
    }
  });

  it('references only keys the Secret template defines, and the template defines only those', () => {
    // The notifications engine replaces $<key> tokens matching [$][\w-_]+ in service settings.
    const referenced = [...dataValue(`service.webhook.${SERVICE}`).matchAll(/\$([\w-]+)/g)].map(
      (match) => match[1],
    );
    const stringData = secretTemplate.stringData ?? {};
    expect([...new Set(referenced)].sort()).toEqual(['rollout-verifier-token', 'rollout-verifier-url']);
    expect(Object.keys(stringData).sort()).toEqual(['rollout-verifier-token', 'rollout-verifier-url']);
    for (const [key, value] of Object.entries(stringData)) {
      expect(value, `${key} is an obvious placeholder`).toContain('REPLACE_ME');
    }
    expect(stringData['rollout-verifier-url']).toMatch(/^https:\/\/.*\/\?cluster=REPLACE_ME$/);
  });

  it('subscribes the rollout-verifier recipient to the six triggers, for every Rollout by default', () => {
    const subscriptions = parse(dataValue('subscriptions'));
    expect(subscriptions).toEqual([{ recipients: [SERVICE], triggers: expect.any(Array) }]);
    expect([...subscriptions[0].triggers].sort()).toEqual([...TRIGGERS].sort());
  });

  it('documents the selector and the per-Rollout annotations, and the warning against using both', () => {
    const text = readFileSync(new URL('argo-rollouts-notification-configmap.yaml', CLUSTER_DIR), 'utf8');
    expect(text).toMatch(/#\s*selector: \S+=\S+/);
    for (const trigger of TRIGGERS) {
      expect(text).toContain(`notifications.argoproj.io/subscribe.${trigger}.${SERVICE}: ""`);
    }
    expect(text).toMatch(/ONE of the two/);
  });
});

describe('RBAC for the verifier groups', () => {
  const rulesOf = (name: string) => clusterRole(name).rules ?? [];

  it('grants the callback group what abort needs, rule by rule: read the Rollout, patch its status, create Events', () => {
    expect(rulesOf(CALLBACK_GROUP)).toEqual([
      { apiGroups: ['argoproj.io'], resources: ['rollouts'], verbs: ['get'] },
      { apiGroups: ['argoproj.io'], resources: ['rollouts/status'], verbs: ['patch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    ]);
  });

  it('grants the observer group exactly what verify reads, rule by rule, get by name and one list', () => {
    expect(rulesOf(OBSERVER_GROUP)).toEqual([
      { apiGroups: ['argoproj.io'], resources: ['rollouts'], verbs: ['get'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list'] },
      { apiGroups: [''], resources: ['services'], verbs: ['get'] },
      {
        apiGroups: ['networking.istio.io'],
        resources: ['virtualservices', 'destinationrules'],
        verbs: ['get'],
      },
      { apiGroups: ['getambassador.io'], resources: ['mappings'], verbs: ['get'] },
      { apiGroups: ['x.getambassador.io'], resources: ['ambassadormappings'], verbs: ['get'] },
    ]);
  });

  /** Who may do what under each way of installing deploy/cluster. */
  const SETUPS = {
    'cluster-wide': built(CLUSTER_DIR),
    'cluster-wide with promote': built(CLUSTER_DIR, {
      ...readKustomization(CLUSTER_DIR),
      components: ['promote'],
    }),
    'namespaced in shop, with promote': [
      ...clusterRoles,
      ...built(CLUSTER_DIR, {
        kind: 'Kustomization',
        namespace: 'shop',
        resources: ['namespaced'],
        components: ['namespaced/promote'],
      }),
    ],
  };
  /** `resource` as kubectl writes it: `events`, `rollouts.argoproj.io`, `rollouts.argoproj.io/status`. */
  const ask = (
    setup: keyof typeof SETUPS,
    group: string,
    verb: string,
    resource: string,
    namespace = 'shop',
  ) => {
    const [qualified = '', subresource] = resource.split('/');
    const dot = qualified.indexOf('.');
    return rbacAuthorizer(SETUPS[setup])({
      groups: [group, 'system:authenticated'],
      verb,
      group: dot < 0 ? '' : qualified.slice(dot + 1),
      resource: dot < 0 ? qualified : qualified.slice(0, dot),
      ...(subresource ? { subresource } : {}),
      namespace,
      name: 'checkout',
    });
  };
  const ROLLOUTS = 'rollouts.argoproj.io';
  const ABORT = [
    ['get', ROLLOUTS],
    ['patch', `${ROLLOUTS}/status`],
    ['create', 'events'],
  ] as const;

  it.each(Object.keys(SETUPS) as (keyof typeof SETUPS)[])('%s: the callback may abort in shop', (setup) => {
    for (const [verb, resource] of ABORT)
      expect(ask(setup, CALLBACK_GROUP, verb, resource), `${verb} ${resource}`).toBe(true);
  });

  it("patch on the Rollout itself (promote's spec.paused) only with a promote component, and only where it is bound", () => {
    expect(ask('cluster-wide', CALLBACK_GROUP, 'patch', ROLLOUTS)).toBe(false);
    expect(ask('cluster-wide with promote', CALLBACK_GROUP, 'patch', ROLLOUTS)).toBe(true);
    expect(ask('cluster-wide with promote', CALLBACK_GROUP, 'patch', ROLLOUTS, 'payments')).toBe(true);
    expect(ask('namespaced in shop, with promote', CALLBACK_GROUP, 'patch', ROLLOUTS)).toBe(true);
    for (const [verb, resource] of [...ABORT, ['patch', ROLLOUTS]] as const) {
      expect(
        ask('namespaced in shop, with promote', CALLBACK_GROUP, verb, resource, 'payments'),
        `${verb} ${resource}`,
      ).toBe(false);
    }
  });

  it.each(Object.keys(SETUPS) as (keyof typeof SETUPS)[])(
    '%s: the observer writes nothing and lists nothing but EndpointSlices',
    (setup) => {
      for (const verb of ['create', 'update', 'patch', 'delete']) {
        for (const resource of [
          ROLLOUTS,
          `${ROLLOUTS}/status`,
          'events',
          'services',
          'virtualservices.networking.istio.io',
          'mappings.getambassador.io',
        ]) {
          expect(ask(setup, OBSERVER_GROUP, verb, resource), `${verb} ${resource}`).toBe(false);
        }
      }
      for (const resource of [
        ROLLOUTS,
        'services',
        'secrets',
        'pods',
        'configmaps',
        'mappings.getambassador.io',
      ]) {
        expect(ask(setup, OBSERVER_GROUP, 'list', resource), `list ${resource}`).toBe(false);
      }
      expect(ask(setup, CALLBACK_GROUP, 'get', 'secrets')).toBe(false);
    },
  );

  it('has no wildcard, no secrets, no resourceNames or nonResourceURLs loophole, in any role of any setup', () => {
    const roles = Object.values(SETUPS)
      .flat()
      .filter((manifest) => manifest.kind === 'ClusterRole' || manifest.kind === 'Role');
    expect(new Set(roles.map((role) => role.metadata.name))).toEqual(
      new Set([CALLBACK_GROUP, OBSERVER_GROUP, PROMOTE_ROLE]),
    );
    for (const role of roles) {
      for (const rule of role.rules ?? []) {
        const where = `${role.metadata.name}: ${JSON.stringify(rule)}`;
        expect([...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs], where).not.toContain(
          '*',
        );
        expect(rule.resources ?? [], where).not.toContain('secrets');
        expect(rule.resourceNames, where).toBeUndefined();
        expect(rule.nonResourceURLs, where).toBeUndefined();
      }
    }
  });

  it.each([CALLBACK_GROUP, OBSERVER_GROUP])(
    'binds group %s (the stack access entry group) to its ClusterRole',
    (name) => {
      const binding = clusterRoleBindings.find((manifest) => manifest.metadata.name === name);
      expect(binding?.kind).toBe('ClusterRoleBinding');
      expect(binding?.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });
      expect(binding?.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name }]);
    },
  );
});

describe('Rollout CRD consistency', () => {
  it("RBAC names the CRD's plural and its subresources", () => {
    const [crd] = parseAllDocuments(readFileSync(ROLLOUT_CRD_PATH, 'utf8')).map((document) =>
      document.toJS(),
    );
    expect(crd.kind).toBe('CustomResourceDefinition');
    expect(crd.spec.group).toBe('argoproj.io');
    expect(crd.spec.scope).toBe('Namespaced');
    const plural: string = crd.spec.names.plural;
    const servedVersions = crd.spec.versions.filter((version: { served: boolean }) => version.served);
    expect(servedVersions.length).toBeGreaterThan(0);
    const known = new Set([plural]);
    for (const subresource of ['status', 'scale']) {
      if (
        servedVersions.every(
          (version: { subresources?: object }) => subresource in (version.subresources ?? {}),
        )
      ) {
        known.add(`${plural}/${subresource}`);
      }
    }
    const promote = readDocuments(new URL('promote/clusterrole.yaml', CLUSTER_DIR));
    const referenced = [...clusterRoles, ...promote].flatMap((role) =>
      (role.rules ?? [])
        .filter((rule) => rule.apiGroups?.includes('argoproj.io'))
        .flatMap((rule) => rule.resources ?? []),
    );
    expect(new Set(referenced)).toEqual(new Set(['rollouts', 'rollouts/status']));
    for (const resource of referenced) {
      expect(known, `argoproj.io/${resource} in the CRD`).toContain(resource);
    }
  });
});
