#!/usr/bin/env bash
# Build the tools `make k8s-check` runs into OUT, once: kube-apiserver and
# kubectl from the k8s.io/kubernetes Go module, etcd from go.etcd.io/etcd, and
# promtool from github.com/prometheus/prometheus; and the Prometheus operator's
# CRDs (PodMonitor, ServiceMonitor, PrometheusRule) generated from its API
# types' Go module with controller-gen, the way upstream makes them. Only the Go module proxy is
# needed, the first time; OUT lives outside the clone (CI clones afresh), and a
# binary already there is kept. The first kube-apiserver build takes ~11 min
# on two shared cores; with a warm Go build cache it takes seconds.
#
# usage: build-bins.sh OUT [kube-apiserver kubectl etcd promtool monitoring-crds]   (default: all)
# env:   K8S_VERSION, ETCD_VERSION, PROMETHEUS_VERSION, PROMETHEUS_OPERATOR_VERSION,
#        CONTROLLER_TOOLS_VERSION, JOBS (go build -p)
set -euo pipefail
OUT=${1:?output dir}; shift
TOOLS=" ${*:-kube-apiserver kubectl etcd promtool monitoring-crds} "
K8S_VERSION=${K8S_VERSION:-v1.37.2}                 # k8s.io/kubernetes tag
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}               # go.etcd.io/etcd/server/v3
PROMETHEUS_VERSION=${PROMETHEUS_VERSION:-v0.316.0}  # Go module tag of Prometheus 3.16.0
PROMETHEUS_OPERATOR_VERSION=${PROMETHEUS_OPERATOR_VERSION:-v0.95.2}  # .../pkg/apis/monitoring
CONTROLLER_TOOLS_VERSION=${CONTROLLER_TOOLS_VERSION:-v0.23.0}
JOBS=${JOBS:-1}                                     # 1 keeps a 2-core machine usable
STAGING_VERSION=v0.${K8S_VERSION#v1.}               # v1.37.2 -> v0.37.2
SRC=$OUT/src/kubernetes-$K8S_VERSION
mkdir -p "$OUT"
export CGO_ENABLED=0

# A binary of another version than asked for is rebuilt, so bumping a version
# here is enough to refresh every developer's cache.
# A tool not asked for counts as present.
has_version() {
  [[ $TOOLS == *" $(basename "$1") "* ]] || return 0
  [ -x "$1" ] || return 1
  if [[ $1 == */kubectl ]]; then "$1" version --client; else "$1" --version; fi 2>/dev/null | grep -qF -- "$2"
}

# 1. kube-apiserver, kubectl. The module zip lacks staging/ (nested modules),
#    and `go install` refuses its replace directives: build in a writable copy
#    whose replaces point at the published k8s.io/* modules of the same release.
k8s_cmds=()
for c in kube-apiserver kubectl; do
  has_version "$OUT/$c" "$K8S_VERSION" || k8s_cmds+=("$c")
done
if [ ${#k8s_cmds[@]} -gt 0 ]; then
  if [ ! -f "$SRC/go.mod" ]; then
    dir=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
    rm -rf "$SRC.tmp"; mkdir -p "$(dirname "$SRC")"; cp -r "$dir" "$SRC.tmp"; chmod -R u+w "$SRC.tmp"
    rm -f "$SRC.tmp/go.work" "$SRC.tmp/go.work.sum"
    sed -i -E "s#^(\s*)(k8s\.io/[a-z0-9-]+) => \./staging/src/k8s\.io/[a-z0-9-]+#\1\2 => \2 $STAGING_VERSION#" "$SRC.tmp/go.mod"
    mv "$SRC.tmp" "$SRC"
  fi
  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  # Without the version ldflags the server reports v0.0.0, and helm refuses the
  # chart's `kubeVersion: ">=1.30.0-0"` against it.
  ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
   -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
   -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
  for c in "${k8s_cmds[@]}"; do
    echo "building $c $K8S_VERSION"
    (cd "$SRC" && GOFLAGS=-mod=mod nice -n 15 go build -p "$JOBS" -trimpath -ldflags "$ld" -o "$OUT/$c.tmp" "./cmd/$c")
    mv "$OUT/$c.tmp" "$OUT/$c"
  done
fi

# 2. etcd: a two-line main module importing etcdmain, so etcd's own replace
#    directives do not apply.
if ! has_version "$OUT/etcd" "${ETCD_VERSION#v}"; then
  echo "building etcd $ETCD_VERSION"
  e=$OUT/src/etcd-$ETCD_VERSION; mkdir -p "$e"
  printf 'module local/etcd\n\ngo 1.24\n' > "$e/go.mod"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > "$e/main.go"
  (cd "$e" && GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 \
     && GOFLAGS=-mod=mod nice -n 15 go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$OUT/etcd.tmp" .)
  mv "$OUT/etcd.tmp" "$OUT/etcd"
fi

# 3. promtool: Prometheus' go.mod has no replace directives, so `go install`
#    works; the module tag v0.3XX.Y is Prometheus 3.XX.Y.
prom_release=${PROMETHEUS_VERSION#v0.}; prom_release=3.${prom_release#3}
if ! has_version "$OUT/promtool" "version $prom_release"; then
  echo "building promtool $PROMETHEUS_VERSION (Prometheus $prom_release)"
  gobin=$(mktemp -d)
  GOBIN=$gobin nice -n 15 go install -p "$JOBS" -trimpath \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=$prom_release" \
    "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION"
  mv "$gobin/promtool" "$OUT/promtool"; rmdir "$gobin"
fi
# 4. CRDs of the Prometheus operator into OUT/crds (a folder of CRDs only, so
#    it can be applied and read whole); a stamp says which version they are.
crds=$OUT/crds
if [[ $TOOLS == *" monitoring-crds "* ]] \
   && [ "$(cat "$crds/VERSION" 2>/dev/null)" != "$PROMETHEUS_OPERATOR_VERSION" ]; then
  echo "generating monitoring.coreos.com CRDs $PROMETHEUS_OPERATOR_VERSION"
  m=$OUT/src/monitoring-crds-$PROMETHEUS_OPERATOR_VERSION; mkdir -p "$m"
  api=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring
  printf 'module local/monitoringcrds\n\ngo 1.24\n' > "$m/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "%s/v1"\n\t_ "sigs.k8s.io/controller-tools/cmd/controller-gen"\n)\n' "$api" > "$m/tools.go"
  rm -rf "$crds.tmp"; mkdir -p "$crds.tmp"
  (cd "$m" && GOFLAGS=-mod=mod go get "$api@$PROMETHEUS_OPERATOR_VERSION" \
       "sigs.k8s.io/controller-tools@$CONTROLLER_TOOLS_VERSION" >/dev/null 2>&1 \
     && GOFLAGS=-mod=mod nice -n 15 go build -p "$JOBS" -o controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen \
     && ./controller-gen crd:crdVersions=v1,maxDescLen=0 paths="$api/v1" output:crd:dir="$crds.tmp/all")
  for kind in podmonitors servicemonitors prometheusrules; do
    mv "$crds.tmp/all/monitoring.coreos.com_$kind.yaml" "$crds.tmp/"
  done
  rm -rf "$crds.tmp/all"; echo "$PROMETHEUS_OPERATOR_VERSION" > "$crds.tmp/VERSION"
  rm -rf "$crds"; mv "$crds.tmp" "$crds"
fi
ls -la "$OUT"
