"""The hand-written corpus: every case, several times, gets exactly its status."""

from __future__ import annotations

import pytest

from tests.hostile.api_process import ApiProcess
from tests.hostile.corpus import CASES, Case
from tests.hostile.raw_http import exchange

REPEATS = 3
# An error answer says what is wrong in a few hundred bytes, however large
# or broken the input was (the 422 detail lists at most 50 problems).
MAX_ANSWER_BYTES = 64 * 1024


def _param(case: Case) -> object:
    return pytest.param(case, id=case.id)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_hostile_request_gets_its_exact_status(api: ApiProcess, case: Case) -> None:
    for attempt in range(1, REPEATS + 1):
        answer = exchange(api.config.port, case.request, timeout_s=case.within_s + 1)
        where = f"{case.id} ({case.why}), attempt {attempt}"
        assert answer.status == case.expected, f"{where}: {answer.status} {answer.body[:300]!r}"
        assert case.says.encode() in answer.body, f"{where}: {answer.body[:300]!r}"
        assert len(answer.body) <= MAX_ANSWER_BYTES, f"{where}: {len(answer.body)} bytes"
        assert case.not_before_s <= answer.seconds <= case.within_s, (
            f"{where}: answered after {answer.seconds:.2f}s, "
            f"expected between {case.not_before_s:g}s and {case.within_s:g}s"
        )
