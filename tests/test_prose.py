"""No hand-typed result in the book's prose (issue 21, point 2): the checker and the tree."""

from __future__ import annotations

import json

import pytest
from test_imports import ROOT

from rbgia.book.prose import METHOD_CONSTANTS, book_claims, hand_typed_results


@pytest.mark.parametrize("text, token", [
    ("A1CF reaches test r 0.755, above ThermoNet's 0.751.", "0.751"),
    ("GIA finds a 3' bias in 7 of 10 experiments.", "7 of 10"),
    ("The null model's top k-mer has q = 6.6e-59.", "q = 6.6e-59"),
    ("71% of the spacing pairs are additive.", "71%"),
    ("VTS1 at 0.683 against the paper's 0.698", "0.683"),
    ("(the model reached r = 0.80 here)", "r = 0.80"),
    ("## VTS1 reaches 0.69", "0.69"),
])
def test_a_result_typed_into_prose_is_flagged(text, token):
    assert token in [claim.token for claim in hand_typed_results(text)]


@pytest.mark.parametrize("text", [
    "ResidualBind has 96 filters; the motif sits at positions 17-22 of 41 nt.",
    "Dropout 0.1 and 0.5, a decay x0.3, a test at p < 0.05 and a 95% CI; Adam at 1e-3.",
    "The value `r = 0.755` is code, $p = 0.02$ is math, {{ vts1_r }} is generated.",
    "See [the 0.75 page](other.md) or https://doi.org/10.1101/2020.09.08.288068 (v1.2.3).",
    "```python\nfit(model, lr=0.004)\n```",
    "(fig-2d)=\n:width: 0.75\n<!-- drafted at 0.75 -->",
])
def test_constants_code_math_and_substitutions_pass(text):
    assert hand_typed_results(text) == []


def test_a_claim_names_its_line():
    (claim,) = hand_typed_results("first line\nthe model reached r = 0.80 here", "page.md")
    assert (claim.source, claim.line, claim.token) == ("page.md", 2, "r = 0.80")
    assert "page.md:2" in str(claim)


def test_every_allowed_constant_says_why():
    assert all(reason.strip() for reason in METHOD_CONSTANTS.values())


def test_the_book_and_the_chapters_hold_no_hand_typed_result():
    claims = book_claims(ROOT)
    assert not claims, "hand-typed results (generate them from the records, or allow-list a constant):\n" + \
        "\n".join(map(str, claims))


def test_the_tree_check_reads_notebook_markdown(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n\nNothing measured here.\n")
    cells = [{"cell_type": "markdown", "source": ["GIA agrees in 9 of 10 experiments."]},
             {"cell_type": "code", "source": ["x = 0.123"]}]
    (tmp_path / "notebooks" / "05_gia.ipynb").write_text(json.dumps({"cells": cells}))
    claims = book_claims(tmp_path)
    assert [(c.source, c.token) for c in claims] == [("notebooks/05_gia.ipynb[cell 0]", "9 of 10")]
