#!/usr/bin/env bash
# Smoke-test the image the way Kubernetes runs it: read-only root, writable
# /tmp only, non-root. Runs `clickstream api` against the local stack's Kafka
# and checks /readyz and one accepted event.
#
# usage: scripts/k8s/image-test.sh IMAGE HOST_PORT KAFKA_BOOTSTRAP
# env:   PODMAN (default "podman"), PODMAN_LIMITS (extra run flags)
set -euo pipefail

image=${1:?image}
port=${2:?host port for the API}
kafka=${3:?Kafka bootstrap servers}
podman=${PODMAN:-podman}
limits=${PODMAN_LIMITS:-}
run="$podman run --rm $limits --network host --read-only --tmpfs /tmp:rw,size=64m"

# Plain TCP probe, so the check needs nothing from the host but bash.
kafka_host=${kafka%%,*}
if ! (exec 3<>"/dev/tcp/${kafka_host%:*}/${kafka_host##*:}") 2>/dev/null; then
    echo "no Kafka at $kafka_host: start the local stack first (.venv/bin/clickstream local up --detach)" >&2
    exit 1
fi

echo "--- image: user and entrypoint"
uid=$($run --entrypoint id "$image" -u)
[[ $uid != 0 ]] || { echo "image runs as root" >&2; exit 1; }
for role in api etl migrate; do
    $run "$image" "$role" --help > /dev/null
done
echo "uid $uid; api, etl and migrate answer --help"

echo "--- api on 127.0.0.1:$port against Kafka $kafka"
container=$($run --detach \
    -e CLICKSTREAM_API__PORT="$port" \
    -e CLICKSTREAM_API__WORKERS=2 \
    -e CLICKSTREAM_KAFKA__BOOTSTRAP_SERVERS="$kafka" \
    -e CLICKSTREAM_LOG_FORMAT=json \
    "$image" api)
cleanup() {
    status=$?
    if (( status != 0 )); then
        echo "--- container log" >&2
        $podman logs "$container" >&2 || true
    fi
    $podman rm --force --time 15 "$container" > /dev/null || true
}
trap cleanup EXIT

base=http://127.0.0.1:$port
for _ in $(seq 60); do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' "$base/readyz") == 200 ]]; then
        break
    fi
    sleep 1
done
curl -sS --fail-with-body "$base/readyz"
echo

event='{"event": {"event_type": "click", "timestamp": "2024-10-03T14:30:00Z", "user_id": "956939f6-7a98-4bf1-9949-500e5dd20fa0", "country": "US", "device": "mobile", "element": "button_submit", "page_url": "https://example.com/submit"}}'
# The body goes to a file of our own: `-o /dev/stderr` would reopen (and
# truncate) whatever file stderr is redirected to, such as CI's log.
body=$(mktemp)
response=$(curl -sS -o "$body" -w '%{http_code}' -X POST "$base/api/v1/events" \
    -H 'content-type: application/json' -d "$event")
cat "$body"
rm -f "$body"
echo
if [[ $response != 200 ]]; then
    echo "POST /api/v1/events answered $response, expected 200" >&2
    exit 1
fi
echo "image-test passed: /readyz ready, event accepted (200)"
