"""A ClickHouse node's data directory on a small filesystem of its own.

The node keeps everything under its component's `data_dir` (config.xml's
`<path>`, see clickstream_local/components.py). While the node is stopped,
`SmallDisk.mount` moves that directory aside, mounts a tmpfs a little larger
than its contents in its place and copies them in; `fill` then takes the rest
of the space, so the node's next write fails as on a full volume, and `free`
gives it back. `unmount` (node stopped again) copies what the node wrote
meanwhile back to the real disk and removes the tmpfs. It needs root (mount).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

from clickstream_local.components import Component

CHUNK_BYTES = 1024 * 1024
FILLER = "chaos-filler"


class SmallDisk:
    def __init__(self, component: Component, headroom_bytes: int) -> None:
        self.data = component.data_dir
        self._headroom_bytes = headroom_bytes
        # The real directory while the tmpfs is mounted in its place.
        self._stash = component.workdir / "data.on-disk"
        self._staging = component.workdir / "data.from-tmpfs"

    @property
    def mounted(self) -> bool:
        return os.path.ismount(self.data)

    def mount(self) -> int:
        """Put the data directory on a tmpfs (node stopped); returns the tmpfs' size in bytes."""
        if self.mounted or self._stash.exists():
            self.unmount()  # left over from an interrupted run
        used = _used_bytes(self.data)
        size = used + self._headroom_bytes
        self.data.rename(self._stash)
        self.data.mkdir()
        _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(self.data))
        _run("cp", "-a", f"{self._stash}/.", str(self.data))
        return size

    def fill(self) -> int:
        """Write a file until the filesystem is full; returns the bytes written."""
        written = 0
        chunk = b"\0" * CHUNK_BYTES
        fd = os.open(self.data / FILLER, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            while len(chunk) >= 1:
                try:
                    written += os.write(fd, chunk)
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    chunk = chunk[: len(chunk) // 2]  # the last pages, in smaller writes
        finally:
            os.close(fd)
        return written

    def free(self) -> None:
        (self.data / FILLER).unlink(missing_ok=True)

    def unmount(self) -> None:
        """Back onto the real disk with what the node wrote meanwhile (node stopped); idempotent."""
        if self.mounted:
            self.free()
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging.mkdir()
            _run("cp", "-a", f"{self.data}/.", str(self._staging))
            _run("umount", str(self.data))
            self.data.rmdir()
            self._staging.rename(self.data)
            shutil.rmtree(self._stash)
        elif self._stash.exists():
            # Interrupted between the rename and the copy: the stash is the truth.
            shutil.rmtree(self.data, ignore_errors=True)
            self._stash.rename(self.data)


def _used_bytes(path: Path) -> int:
    """Bytes the directory's files take, rounded up to pages as tmpfs stores them."""
    page = 4096
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            size = os.lstat(os.path.join(root, name)).st_size
            total += -(-size // page) * page
    return total


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)
