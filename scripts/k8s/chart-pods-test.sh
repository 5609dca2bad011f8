#!/usr/bin/env bash
# Run the chart's ingest, ETL and migrations pod specs with podman against a
# local stack of their own (Kafka + ClickHouse only, on the ports that
# values-chart-pods.yaml names), probe them like the kubelet and carry one
# event from HTTP to ClickHouse. See chart_pods.py.
#
# usage: scripts/k8s/chart-pods-test.sh HELM IMAGE
# env:   PODMAN, PODMAN_LIMITS, K8S_KUBE_VERSION
set -euo pipefail
helm=${1:?helm binary}
image=${2:?image, e.g. localhost/clickstream:dev}
values=scripts/k8s/values-chart-pods.yaml
manifest=.cache/k8s/chart-pods.yaml
repository=${image%:*}
tag=${image##*:}

export CLICKSTREAM_LOCAL__STATE_DIR=.cache/local-chart-pods
export CLICKSTREAM_LOCAL__KAFKA_PORT=29092
export CLICKSTREAM_LOCAL__CLICKHOUSE_PORT=29000
export CLICKSTREAM_LOCAL__CLICKHOUSE_HTTP_PORT=28123
export CLICKSTREAM_LOCAL__ZOOKEEPER_PORT=22181
export CLICKSTREAM_LOCAL__API_PORT=28001
export CLICKSTREAM_LOCAL__ETL_METRICS_PORT=29109
# Only Kafka and ClickHouse: the chart's own pods are the pipeline here.
export CLICKSTREAM_LOCAL__START_PIPELINE=false

mkdir -p "$(dirname "$manifest")"
"$helm" template clickstream helm/clickstream --namespace clickstream \
    --kube-version "${K8S_KUBE_VERSION:-1.30.0}" -f "$values" \
    --set image.repository="$repository" --set image.tag="$tag" > "$manifest"

.venv/bin/clickstream local down > /dev/null 2>&1 || true
.venv/bin/clickstream local up --topology single --detach
trap '.venv/bin/clickstream local down' EXIT
database=chart_pods
# The Job must build the schema itself: start from no database.
curl -sS --fail "http://127.0.0.1:$CLICKSTREAM_LOCAL__CLICKHOUSE_HTTP_PORT/" --data-binary "DROP DATABASE IF EXISTS $database"

secret=chart-pods-clickhouse-auth
.venv/bin/python scripts/k8s/chart_pods.py --manifest "$manifest" \
    --podman "${PODMAN:-podman}" --limits "${PODMAN_LIMITS:-}" \
    --clickhouse-http "http://127.0.0.1:$CLICKSTREAM_LOCAL__CLICKHOUSE_HTTP_PORT" \
    --secret "$secret/migrator-password=" --secret "$secret/etl-password=" \
    --secret "$secret/analyst-password=" --database "$database"
