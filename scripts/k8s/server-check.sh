#!/usr/bin/env bash
# Server-side dry-run of rendered manifests against a real, throwaway
# kube-apiserver + etcd on loopback, with the operators' CRDs installed. No
# controllers, no kubelet: this checks what only an API server checks (core
# validation and admission, CRD structural schemas and CEL rules, defaulting,
# strict field validation).
#
# usage: server-check.sh MANIFEST... [--refuse CASE.yaml...]
#   Each MANIFEST must be accepted with no warning. Each CASE after --refuse
#   must be refused by the server, with the text of CASE.expect (beside it, if
#   present) in the server's message.
# env:   K8S_BINS (kube-apiserver, etcd, kubectl), CRD_DIRS (space-separated),
#        NAMESPACE (created before the dry-run)
set -euo pipefail
K8S_BINS=${K8S_BINS:?dir with kube-apiserver, etcd and kubectl}
KUBECTL=$K8S_BINS/kubectl
CRD_DIRS=${CRD_DIRS:?space-separated dirs of CRD yaml}
NAMESPACE=${NAMESPACE:-clickstream}
WORK=$(mktemp -d)

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f} s')" "$1" "$(now)"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ETCD_PORT=$(free_port); PEER_PORT=$(free_port); API_PORT=$(free_port)

pids=()
cleanup() {
  # apiserver first, then etcd; both are our children, so wait reaps them.
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    ( sleep 20; kill -9 "${pids[i]}" 2>/dev/null ) & killer=$!
    wait "${pids[i]}" 2>/dev/null || true
    kill "$killer" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

openssl genrsa -out "$WORK/sa.key" 2048 2>/dev/null
openssl rsa -in "$WORK/sa.key" -pubout -out "$WORK/sa.pub" 2>/dev/null
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
echo "$TOKEN,admin,admin,system:masters" > "$WORK/tokens.csv"
cat > "$WORK/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: dryrun, cluster: {server: "https://127.0.0.1:$API_PORT", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: "$TOKEN"}}]
contexts: [{name: dryrun, context: {cluster: dryrun, user: admin}}]
current-context: dryrun
EOF
export KUBECONFIG=$WORK/kubeconfig

started=$(now)
"$K8S_BINS/etcd" --name dryrun --data-dir "$WORK/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-cluster "dryrun=http://127.0.0.1:$PEER_PORT" --unsafe-no-fsync \
  > "$WORK/etcd.log" 2>&1 &
pids+=($!)

# On loopback the server needs --endpoint-reconciler-type=none.
"$K8S_BINS/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
  --endpoint-reconciler-type=none \
  --cert-dir="$WORK/certs" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$WORK/sa.pub" --service-account-signing-key-file="$WORK/sa.key" \
  --token-auth-file="$WORK/tokens.csv" --authorization-mode=RBAC \
  --service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true \
  --enable-priority-and-fairness=false --profiling=false \
  > "$WORK/apiserver.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 240); do
  "$KUBECTL" get --raw /readyz >/dev/null 2>&1 && break
  kill -0 "${pids[1]}" 2>/dev/null || { tail -20 "$WORK/apiserver.log" >&2; exit 1; }
  sleep 0.5
done
"$KUBECTL" get --raw /readyz >/dev/null
echo "kube-apiserver $("$KUBECTL" version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])') ready in $(since "$started")"

# Server-side: the KEDA ScaledJob CRD is too large for the last-applied annotation.
phase=$(now)
crd_args=()
for d in $CRD_DIRS; do crd_args+=(-f "$d"); done
"$KUBECTL" apply --server-side "${crd_args[@]}" >/dev/null
"$KUBECTL" wait --for=condition=Established crd --all --timeout=120s >/dev/null
"$KUBECTL" create namespace "$NAMESPACE" >/dev/null
echo "$("$KUBECTL" get crd -o name | wc -l) CRDs established in $(since "$phase")"

rc=0
mode=accept
for m in "$@"; do
  if [ "$m" = --refuse ]; then mode=refuse; continue; fi
  phase=$(now)
  status=0
  out=$("$KUBECTL" apply --dry-run=server --validate=strict -n "$NAMESPACE" -f "$m" 2>&1) || status=$?
  if [ $mode = accept ]; then
    # Anything but "... (server dry run)" is a warning (deprecated API,
    # unknown field under a lenient schema, ...), and fails the check too.
    others=$(grep -v ' (server dry run)$' <<<"$out" || true)
    if [ $status -eq 0 ] && [ -z "$others" ]; then
      echo "ok   $m: $(grep -c ' (server dry run)$' <<<"$out") objects accepted ($(since "$phase"))"
    else
      echo "FAIL $m: rejected or warned"; sed 's/^/     /' <<<"$others"; rc=1
    fi
  else
    expect=""
    [ -f "${m%.yaml}.expect" ] && expect=$(<"${m%.yaml}.expect")
    # The server's refusals read "Error from server (...)" or, for an invalid
    # object (HTTP 422), "The <Kind> \"<name>\" is invalid: ...".
    refused='Error from server|" is invalid: '
    if [ $status -ne 0 ] && grep -qE "$refused" <<<"$out" && grep -qF -- "$expect" <<<"$out"; then
      echo "ok   $m: refused: $(grep -E "$refused" <<<"$out" | head -1 | cut -c1-300)"
    else
      echo "FAIL $m: the server did not refuse it${expect:+ with \"$expect\"}"; sed 's/^/     /' <<<"$out"; rc=1
    fi
  fi
done
echo "server check done in $(since "$started")"
exit $rc
