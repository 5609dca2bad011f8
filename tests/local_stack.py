"""The running local stack, for the test suites that talk to it (integration, browser)."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

from clickstream_local.settings import LocalSettings
from clickstream_local.stack import Stack, find_stack


def healthy_stack(how_to_run: str) -> Stack:
    """The stack `make up` brought up; skipped without one, failed in CI.

    `how_to_run` says how to bring the stack up and run the suite.
    """
    local = LocalSettings()
    found = find_stack(local)
    if found is None:
        no_stack(f"no local stack was brought up under {local.state_dir.resolve()}", how_to_run)
    unhealthy = [row["name"] for row in found.status()["components"] if not row["healthy"]]
    if unhealthy:
        no_stack(f"the local stack is not healthy: {', '.join(unhealthy)}", how_to_run)
    return found


def no_stack(reason: str, how_to_run: str) -> NoReturn:
    message = f"{reason}; run {how_to_run}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
