"""Fixtures: the chart rendered with each shipped values file, or on demand."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .rendering import Rendering, render_chart


@pytest.fixture
def render() -> Callable[..., Rendering]:
    return render_chart


PROFILES = {
    "default": (),
    "production": ("values-production.yaml",),
    "kind": ("values-kind.yaml",),
}


@pytest.fixture(params=list(PROFILES), scope="module")
def profile(request: pytest.FixtureRequest) -> Rendering:
    """The chart rendered with each shipped values file."""
    return render_chart(*PROFILES[request.param])
