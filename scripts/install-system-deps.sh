#!/usr/bin/env bash
# Debian packages the project needs beyond what the machine ships (Python,
# Java 17, Maven, Go): ClickHouse and ZooKeeper for the local stack, podman
# (with runc; crun fails on this machine kind) and debootstrap for the image,
# wrk for the benchmarks, Chromium for the tracker's browser tests (tests/browser).
# Idempotent; apt runs only when something is missing.
set -euo pipefail

packages=(clickhouse-server clickhouse-client zookeeper podman runc debootstrap wrk chromium)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "[deps] installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
