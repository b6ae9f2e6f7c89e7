import { describe, expect, it } from 'vitest';
import { goDirective, parseReplaceDirectives, wrapperGoMod } from '../../../lab/build/go-wrapper.js';
import type { GoBuild } from '../../../lab/build/versions.js';

// Shaped like the go.mod files of the pinned releases (k8s.io/kubernetes, etcd, argo-rollouts).
const KUBERNETES_GO_MOD = `module k8s.io/kubernetes

go 1.24.0

require (
	k8s.io/api v0.0.0
	k8s.io/apimachinery v0.0.0
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/apimachinery => ./staging/src/k8s.io/apimachinery // a comment
)
`;

const ETCD_GO_MOD = `module go.etcd.io/etcd/server/v3

go 1.24.0

toolchain go1.24.13

replace (
	go.etcd.io/etcd/api/v3 => ../api
)

// Bad imports are sometimes causing attempts to pull that code.
replace go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY
`;

const ARGO_GO_MOD = `module github.com/argoproj/argo-rollouts

go 1.24.9

replace github.com/go-check/check => github.com/go-check/check v0.0.0-20180628173108-788fd7840127

replace (
	k8s.io/api => k8s.io/api v0.34.1
	k8s.io/legacy-cloud-providers => k8s.io/legacy-cloud-providers v0.30.14
)
`;

const build = (overrides: Partial<GoBuild>): GoBuild => ({
  id: 'test',
  module: 'example.com/module',
  version: 'v1.0.0',
  binaries: {},
  ldflags: [],
  sha256: {},
  ...overrides,
});

describe('lab wrapper modules', () => {
  it('reads replace directives in block and single-line form, without comments', () => {
    expect(parseReplaceDirectives(ARGO_GO_MOD)).toEqual([
      {
        from: 'github.com/go-check/check',
        to: 'github.com/go-check/check',
        toVersion: 'v0.0.0-20180628173108-788fd7840127',
      },
      { from: 'k8s.io/api', to: 'k8s.io/api', toVersion: 'v0.34.1' },
      { from: 'k8s.io/legacy-cloud-providers', to: 'k8s.io/legacy-cloud-providers', toVersion: 'v0.30.14' },
    ]);
    expect(goDirective(ETCD_GO_MOD)).toBe('1.24.0');
  });

  it("copies a release's published replacements as they are", () => {
    const goMod = wrapperGoMod(
      build({ id: 'argo', module: 'github.com/argoproj/argo-rollouts', version: 'v1.9.1' }),
      ARGO_GO_MOD,
    );
    expect(goMod).toContain('require github.com/argoproj/argo-rollouts v1.9.1');
    expect(goMod).toContain('\tk8s.io/api => k8s.io/api v0.34.1');
    expect(goMod).toContain('go 1.24.9');
  });

  it('points local-path replacements at the published cut, and drops etcd’s FORBIDDEN_DEPENDENCY guards', () => {
    const k8s = wrapperGoMod(
      build({ module: 'k8s.io/kubernetes', version: 'v1.34.4', localReplaceVersion: 'v0.34.4' }),
      KUBERNETES_GO_MOD,
    );
    expect(k8s).toContain('\tk8s.io/api => k8s.io/api v0.34.4');
    expect(k8s).toContain('\tk8s.io/apimachinery => k8s.io/apimachinery v0.34.4');
    const etcd = wrapperGoMod(
      build({ module: 'go.etcd.io/etcd/server/v3', version: 'v3.6.8', localReplaceVersion: 'v3.6.8' }),
      ETCD_GO_MOD,
    );
    expect(etcd).toContain('\tgo.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.6.8');
    expect(etcd).not.toContain('FORBIDDEN_DEPENDENCY');
  });

  it('refuses a local-path replacement it has no published version for', () => {
    expect(() => wrapperGoMod(build({ module: 'k8s.io/kubernetes' }), KUBERNETES_GO_MOD)).toThrow(
      /localReplaceVersion/,
    );
  });
});
