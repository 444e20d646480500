"""Pattern specs: a wrong start or a missing one is named as such (issue 11, cases 7 and 8)."""

from __future__ import annotations

import numpy as np
import pytest

from rbgia.data import one_hot
from rbgia.embedding import embed, parse_patterns
from rbgia.errors import PatternError
from rbgia.session import global_importance


@pytest.mark.parametrize(
    ("patterns", "match"),
    [
        (("UGCAUG", 17.0), r"^start 17\.0 of pattern 'UGCAUG' is a float, not an int; pass a 0-based int start"),
        (("UGCAUG", "17"), r"^start '17' of pattern 'UGCAUG' is a str, not an int"),
        (("UGCAUG", np.float64(17)), r"^start np\.float64\(17\.0\) of pattern 'UGCAUG' is a float64"),
        (("UGCAUG", True), r"^start True of pattern 'UGCAUG' is a bool"),
        ([("UGCAUG", 3), ("GG", 17.0)], r"^start 17\.0 of pattern 'GG' is a float"),
        ((np.eye(4)[:3], 2.0), r"^start 2\.0 of pattern 'matrix' is a float"),
        ("UGCAUG", r"^pattern 'UGCAUG' is not \(pattern, start\): it has no start; pass a pair such as"),
        (np.eye(4)[:3], r"^pattern 'matrix \(3, 4\)' is not \(pattern, start\): it has no start"),
    ],
)
def test_bad_starts_and_missing_starts_are_named(patterns, match):
    with pytest.raises(PatternError, match=match) as err:
        parse_patterns(patterns, 41)
    assert "'U'" not in str(err.value)  # the old message blamed the first letter
    assert "\n" not in str(err.value)


def test_global_importance_without_a_start_says_a_pair_is_needed():
    bg = one_hot(["ACGU" * 10 + "A"] * 4)
    with pytest.raises(PatternError, match=r"'UGCAUG' is not \(pattern, start\): it has no start"):
        global_importance(lambda x: x.sum((1, 2)), bg, "UGCAUG")


def test_valid_specs_still_parse():
    assert [p[2] for p in parse_patterns(("UGCAUG", np.int64(17)), 41)] == [17]
    assert [p[2] for p in parse_patterns((("A", 1), ("C", 3)), 41)] == [1, 3]
    assert [p[2] for p in parse_patterns([("A", 1), ("C", 3)], 41)] == [1, 3]
    assert embed(one_hot(["A" * 41]), (np.eye(4)[[3]], 0)).shape == (1, 41, 4)
