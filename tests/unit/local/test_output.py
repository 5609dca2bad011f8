"""The supervisor's messages survive a reader that went away (`make run | tee`, Ctrl-C)."""

from __future__ import annotations

import io
import os

from clickstream_local.provision import print_safely


def test_printing_into_a_dead_pipe_neither_raises_nor_fails_again() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8")
    try:
        print_safely("stopping the stack", file=stream)
        # The stream now goes to /dev/null: later messages and the final flush pass.
        print_safely("stopped kafka-1", file=stream)
        stream.flush()
        assert os.readlink(f"/proc/self/fd/{write_end}") == os.devnull
    finally:
        stream.close()
