#!/usr/bin/env bash
# Build a Debian 12 (bookworm) base image with python3.11 for the local image
# check. No registry is reachable here, so python:3.11-slim cannot be pulled;
# this rootfs stands in for it (same Debian release, same Python minor).
#
# usage: scripts/k8s/base-image.sh IMAGE_NAME CACHE_DIR
# Idempotent: does nothing when IMAGE_NAME already exists in podman; reuses
# CACHE_DIR/<name>.tar when only the podman store was wiped.
set -euo pipefail

image=${1:?image name, e.g. localhost/clickstream-base:bookworm}
cache_dir=${2:?cache directory, e.g. .cache/k8s}
# Same mirror apt uses on this machine; override for another one.
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if podman image exists "$image"; then
    echo "base image $image present"
    exit 0
fi

mkdir -p "$cache_dir"
tarball="$cache_dir/$(echo "$image" | tr '/:' '__').tar"

if [[ ! -s $tarball ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "debootstrap needs root; run as root or provide $tarball" >&2
        exit 1
    fi
    rootfs=$(mktemp -d "$cache_dir/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase \
        --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" "$mirror"
    # Keep the image slim: no package lists, docs or caches.
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
        "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/var/cache/debconf/*-old
    tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
fi

podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    "$tarball" "$image"
echo "imported $image from $tarball"
