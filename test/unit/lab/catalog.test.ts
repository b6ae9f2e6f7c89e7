import { describe, expect, it } from 'vitest';
import { readVersions } from '../../../lab/build/versions.js';
import { labScenarios } from '../../../lab/scenarios/catalog.js';
import { allSucceeded, failedThenAborted } from '../../../lab/scenarios/judges.js';

describe('lab scenarios', () => {
  const scenarios = labScenarios();

  it('covers issue 14: at least 10 scenarios, its three Argo releases (and v1.6.6 for #3593), every router', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(10);
    expect(new Set(scenarios.map((scenario) => scenario.argoVersion))).toEqual(
      new Set(['v1.9.1', 'v1.8.2', 'v1.7.2', 'v1.6.6']),
    );
    expect(new Set(scenarios.map((scenario) => scenario.router))).toEqual(
      new Set(['alb', 'istio', 'ambassador']),
    );
  });

  it('gives each scenario its own namespace, a valid DNS label, and a unique name', () => {
    const namespaces = scenarios.map((scenario) => scenario.namespace);
    expect(new Set(namespaces).size).toBe(namespaces.length);
    for (const namespace of namespaces) expect(namespace).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    expect(new Set(scenarios.map((scenario) => scenario.name)).size).toBe(scenarios.length);
  });

  it('pins a controller binary for each Argo release a scenario uses', () => {
    const binaries = readVersions().builds.flatMap((build) => Object.keys(build.binaries));
    for (const scenario of scenarios)
      expect(binaries).toContain(`rollouts-controller-${scenario.argoVersion}`);
  });

  it('judges by the rule, not by a fixed verdict list', () => {
    expect(
      allSucceeded(1)({
        verdicts: ['Succeeded', 'Succeeded'],
        findings: [],
        clusterActions: ['promoted', 'none'],
      }),
    ).toEqual([]);
    expect(
      allSucceeded(1)({ verdicts: ['Failed'], findings: ['WeightMismatch'], clusterActions: ['aborted'] }),
    ).toHaveLength(2);
    expect(
      failedThenAborted('WeightMismatch')({
        verdicts: ['Failed', 'Succeeded'],
        findings: ['WeightMismatch'],
        clusterActions: ['aborted', 'none'],
      }),
    ).toEqual([]);
    expect(
      failedThenAborted('WeightMismatch')({
        verdicts: ['Succeeded'],
        findings: [],
        clusterActions: ['none'],
      }),
    ).toHaveLength(3);
  });
});
