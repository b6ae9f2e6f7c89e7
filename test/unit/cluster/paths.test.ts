import { describe, expect, it } from 'vitest';
import { resourceOf, verbOf } from '../../../lambdas/core/cluster/kube-errors.js';
import {
  customObjectPath,
  endpointSlicesPath,
  eventsPath,
  InvalidKubernetesNameError,
  rolloutPath,
} from '../../../lambdas/core/cluster/paths.js';

describe('API paths from validated names only', () => {
  it('builds the paths the verifier calls', () => {
    expect(rolloutPath('shop', 'checkout')).toBe(
      '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout',
    );
    expect(rolloutPath('shop', 'checkout', 'status')).toBe(
      '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout/status',
    );
    expect(eventsPath('shop')).toBe('/api/v1/namespaces/shop/events');
    expect(endpointSlicesPath('shop')).toBe('/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices');
    expect(customObjectPath('networking.istio.io', 'v1', 'virtualservices', 'shop', 'checkout-vs')).toBe(
      '/apis/networking.istio.io/v1/namespaces/shop/virtualservices/checkout-vs',
    );
  });

  it.each([
    ['..', 'checkout'],
    ['shop', '../../kube-system/secrets/x'],
    ['shop', 'checkout?watch=true'],
    ['shop', 'check%2Fout'],
    ['Shop', 'checkout'],
    ['shop.team', 'checkout'],
    ['shop', ''],
    ['shop', `a${'b'.repeat(253)}`],
  ])('refuses namespace %j / name %j before it reaches a URL', (namespace, name) => {
    expect(() => rolloutPath(namespace, name)).toThrow(InvalidKubernetesNameError);
  });
});

describe('what a 403 asks for', () => {
  it.each([
    [
      'PATCH',
      '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout/status',
      'patch',
      'argoproj.io',
      'rollouts/status',
    ],
    ['GET', '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout', 'get', 'argoproj.io', 'rollouts'],
    ['POST', '/api/v1/namespaces/shop/events', 'create', '', 'events'],
    [
      'GET',
      '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices',
      'list',
      'discovery.k8s.io',
      'endpointslices',
    ],
  ] as const)('%s %s → %s %s %s', (method, path, verb, group, resource) => {
    expect(verbOf(method, path)).toBe(verb);
    expect(resourceOf(path)).toEqual({ group, resource });
  });
});
