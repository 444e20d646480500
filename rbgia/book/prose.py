"""Hand-typed results in the book's prose (issue 21, point 2).

A number that a build measures (a test r, a p-value, "7 of 10 experiments") must reach the page
from the records: a generated table, an included fragment, a MyST substitution or a notebook's
output. :func:`hand_typed_results` finds the ones typed into prose instead, in ``book/*.md`` and in
the chapters' markdown cells, so that a rebuild cannot leave them stale. Constants of the method
(a dropout rate, a test level, a clip percentile) are digits too: they are listed, each with its
reason, in :data:`METHOD_CONSTANTS`; any other decimal, percentage, "N of M" count or
``r = ...`` statistic is flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["METHOD_CONSTANTS", "Claim", "hand_typed_results", "book_claims"]

# token -> why it is a constant of the method, not a result of a build
METHOD_CONSTANTS: dict[str, str] = {
    "0.003": "the plateau rule: a validation-r gain below 0.003 over the last 3 epochs",
    "0.01": "a test level (alpha)",
    "0.05": "a test level (alpha)",
    "0.1": "a dropout rate / a band half-width of the additivity test",
    "0.2": "a dropout rate",
    "0.3": "the learning-rate decay factor / a loop-probability margin",
    "0.5": "a dropout rate / a half",
    "1.4826": "the MAD-to-sigma constant",
    "99.9": "the clip percentile of the 2013 targets",
    "1e-3": "the paper's Adam learning rate",
    "5%": "a test level",
    "10%": "the test split",
    "80%": "a split share",
    "90%": "the training split",
    "95%": "a confidence level",
    "99%": "a confidence level",
    "p=1": "the p-value an untested hypothesis counts as in the Benjamini-Hochberg correction",
}

_STRIP = [
    re.compile(r"```.*?```", re.S),                 # fenced code and MyST directives' options
    re.compile(r"`[^`\n]*`"),                       # code spans, roles' targets
    re.compile(r"\{\{[^}]*\}\}"),                   # MyST substitutions: generated
    re.compile(r"\$\$.*?\$\$", re.S),               # display math
    re.compile(r"\$[^$\n]+\$"),                     # inline math
    re.compile(r"\{[a-z:]+\}"),                     # role names
    re.compile(r"https?://\S+"),                    # addresses
    re.compile(r"\b10\.\d{4,9}/\S+"),               # DOIs
    re.compile(r"\[[^\]]*\]\([^)]*\)"),             # links: their text names a page, their target a path
]
_NOT_PROSE = re.compile(r"^\s*(?:\([\w.-]+\)=\s*$|:[\w-]+:|<!--|-->)")  # (label)=, :option: value, comments
_CLAIMS = [  # the statistic first: its number is not counted again as a bare decimal
    re.compile(r"\b(?:r|R\^?2|R²|p|q|rho|AUROC|AUPR)\s?[=<>≈]\s?-?\d+(?:\.\d+)?(?:e-?\d+)?"),
    re.compile(r"(?<![\w.])-?\d+\.\d+(?:[eE]-?\d+)?(?!\w|\.\d)"),      # a decimal
    re.compile(r"(?<![\w.])\d+(?:\.\d+)?e-?\d+(?!\w)"),                  # 1e-3
    re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?%"),                          # a percentage
    re.compile(r"(?<![-–\d])\b\d+ (?:of|out of) \d+\b(?! ?(?:nt|bp)\b)"),        # a count of a total, not a position
]


@dataclass(frozen=True)
class Claim:
    """A digit-bearing result claim typed into prose: where it is and what it says."""

    source: str
    line: int
    token: str
    text: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: hand-typed result {self.token!r} in: {self.text.strip()[:100]}"


def _blank(match: re.Match) -> str:
    # keep line numbers: a stripped span becomes blanks and its newlines
    return re.sub(r"[^\n]", " ", match.group(0))


def _constant(token: str) -> bool:
    token = token.replace(" ", "").rstrip(".")
    number = re.split(r"[=<>≈]", token)[-1]
    return token in METHOD_CONSTANTS or number in METHOD_CONSTANTS


def hand_typed_results(text: str, source: str = "<text>") -> list[Claim]:
    """Digit-bearing result claims in markdown ``text`` that no build generated.

    Parameters
    ----------
    text
        Markdown (a book page or a notebook's markdown cell).
    source
        Named in each claim.

    Returns
    -------
    list of Claim
        Decimals, percentages, "N of M" counts and ``r = ...`` statistics outside code,
        math, substitutions, links and addresses, less :data:`METHOD_CONSTANTS`.
    """
    for pattern in _STRIP:
        text = pattern.sub(_blank, text)
    lines = text.splitlines()
    claims: list[Claim] = []
    for number, line in enumerate(lines, 1):
        if _NOT_PROSE.match(line):
            continue  # MyST labels, directive options, comments
        seen: set[tuple[int, int]] = set()
        for pattern in _CLAIMS:
            for match in pattern.finditer(line):
                span = match.span()
                if any(start < span[1] and span[0] < end for start, end in seen):
                    continue
                seen.add(span)
                token = match.group(0)
                if not _constant(token):
                    claims.append(Claim(source, number, token, line))
    return claims


def book_claims(root: Path) -> list[Claim]:
    """:func:`hand_typed_results` over ``book/*.md`` and the markdown cells of ``notebooks/*.ipynb``."""
    import json

    claims = []
    for page in sorted((root / "book").glob("*.md")):
        claims += hand_typed_results(page.read_text(), str(page.relative_to(root)))
    for notebook in sorted((root / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text())["cells"]
        for index, cell in enumerate(cells):
            if cell["cell_type"] == "markdown":
                claims += hand_typed_results("".join(cell["source"]), f"{notebook.relative_to(root)}[cell {index}]")
    return claims
