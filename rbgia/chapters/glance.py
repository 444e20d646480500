"""Results at a glance: the paper's main claims, each with the paper's number, this build's, the test and a
status, read from the chapters' records (the intro page's table; nothing typed by hand).

Status rules (``STATUS``), one per claim, each tested on records made to hold and to fail:

- ``holds``: the test passes (a paired Wilcoxon p < ``alpha`` in the claimed direction; a goal reached; the
  chapter's verdict is the claimed one; all experiments agree);
- ``partly``: some experiments or comparisons pass, not all; or a goal missed by a model whose validation r
  had not plateaued (more training may close the gap);
- ``not confirmed``: the test ran and does not pass (a goal missed by plateaued models included);
- ``not testable here``: no record, too few experiments for the test to reach ``alpha`` (a two-sided exact
  Wilcoxon signed-rank test needs n >= 6), every verdict undetermined, or the claim's data are not shipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .performance import MIN_WILCOXON_N
from .results import ALL, find_results, results_path

STATUS = ("holds", "partly", "not confirmed", "not testable here")
COLUMNS = ["claim", "paper", "this build", "test", "status"]


@dataclass(frozen=True)
class Claim:
    """One row of the table: the paper's claim (with its panel), its number, this build's, the test, the status."""

    claim: str
    paper: str
    here: str
    test: str
    status: str

    def row(self) -> dict[str, str]:
        return dict(zip(COLUMNS, (self.claim, self.paper, self.here, self.test, self.status)))


def _g(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3g}"


def _every_plateaued(plateaued: Any) -> bool:
    """Whether a goal's ``plateaued`` cell (``"yes"``, ``"no"`` or ``"k of n"``) says every model behind it had."""
    flat = str(plateaued or "no")
    k, _, n = flat.partition(" of ")
    return flat == "yes" or (k.isdigit() and k == n)


def _absent(claim: str, paper: str, chapter: str) -> Claim:
    return Claim(claim, paper, f"no {chapter} record", "-", "not testable here")


def _paired(rows: list[Mapping[str, Any]], claim: str, paper: str, sign: int, alpha: float) -> Claim:
    """A claim tested by paired Wilcoxon comparisons (``mean difference`` of sign ``sign`` and ``pvalue``)."""
    if not rows:
        return Claim(claim, paper, "no comparison recorded", "paired Wilcoxon signed-rank", "not testable here")
    here = "; ".join(f"{r['comparison']}: {r['mean difference']:+.3g} (n = {r['n']}, p = {_g(r['pvalue'])})"
                     for r in rows)
    if all(int(r["n"]) < MIN_WILCOXON_N for r in rows):
        return Claim(claim, paper, here, f"paired Wilcoxon signed-rank (n < {MIN_WILCOXON_N}: cannot reach "
                     f"p < {alpha:g})", "not testable here")
    passed = [r["pvalue"] is not None and r["pvalue"] < alpha and sign * r["mean difference"] > 0 for r in rows]
    status = "holds" if all(passed) else "partly" if any(passed) else "not confirmed"
    return Claim(claim, paper, here, f"paired Wilcoxon signed-rank, p < {alpha:g}", status)


def _goal(row: Mapping[str, Any]) -> Claim:
    reached, flat = bool(row.get("reached")), str(row.get("plateaued") or "no")
    every = _every_plateaued(flat)
    measured = row.get("measured")
    here = (f"{_g(measured)} (gap {row['gap']:+.3f}; plateaued: {flat})" if measured is not None
            else "no model")
    status = ("holds" if reached else "not testable here" if measured is None
              else "not confirmed" if every else "partly")
    goal = str(row["goal"]).split(" (")[0]
    return Claim(f"Accuracy: {goal} (Fig 1)", f"{_g(row['target'])} ({row['target source']})",
                 here, "set-B Pearson r >= the published r", status)


def _count_claim(claim: str, paper: str, verdicts: list[str], good: Callable[[str], bool], test: str,
                 undetermined: str = "undetermined") -> Claim:
    """A claim read from per-experiment verdicts: holds when every determined one is ``good``."""
    counts = pd.Series(verdicts, dtype=object).value_counts()
    here = ", ".join(f"{v} {n}" for v, n in counts.items()) + f" (of {len(verdicts)})" if verdicts else "none"
    determined = [v for v in verdicts if v != undetermined]
    if not determined:
        return Claim(claim, paper, here, test, "not testable here")
    n_good = sum(good(v) for v in determined)
    status = "holds" if n_good == len(determined) else "partly" if n_good else "not confirmed"
    return Claim(claim, paper, here, test, status)


def claims(results_dir: str | os.PathLike, alpha: float = 0.05) -> pd.DataFrame:
    """The table of the paper's main claims against this build's records (columns :data:`COLUMNS`)."""
    rows: list[Claim] = []
    bench = find_results(results_dir, ALL, "03_benchmark")
    fig1a = "ResidualBind predicts better than simpler models (Fig 1a)"
    paper1a = "better than 8 methods on 244 experiments (Wilcoxon p < 0.01)"
    if bench is None:
        rows += [_absent(fig1a, paper1a, "Performance")]
    else:
        tests = bench.get("tests") or {}
        rows.append(_paired(tests.get("baselines") or [], fig1a, paper1a, +1, alpha))
        rows += [_goal(g) for g in bench.get("goals") or []]
        rows.append(_paired(tests.get("normalization") or [], "The log transform beats clip (Fig 1d)",
                            "log above clip for most experiments", +1, alpha))
        rows.append(_paired(tests.get("inputs") or [], "Structure inputs help on 2009 data (Fig 1e-f)",
                            "+PU and +PHIME above sequence only", -1, alpha))
    across = find_results(results_dir, ALL, "08_across_experiments")
    motifs = "GIA's top k-mer is a learned motif (Fig 2e, 4b, Supp. Table 1)"
    if across is None:
        rows += [_absent(motifs, "the RNAcompete motifs recovered", "across-experiments"),
                 _absent("Multiplicity is roughly additive (Fig 2b, 2g)", "R^2 near 1 for 1-3 copies",
                         "across-experiments")]
    else:
        rows.append(_count_claim(motifs, "the RNAcompete motifs recovered",
                                 [str(r.get("motif")) for r in across.get("scans") or []],
                                 lambda v: v == "motif found", "the top k-mer stands out (robust z, Holm)",
                                 undetermined="none"))
        rows.append(_count_claim("Multiplicity is roughly additive (Fig 2b, 2g)", "R^2 near 1 for 1-3 copies",
                                 [str(r.get("verdict")) for r in across.get("multiplicity") or []],
                                 lambda v: v.startswith("additive"), "3 copies vs the copies alone, bootstrap CI"))
    rows.append(_vts1(results_dir))
    rows.append(_gc(results_dir))
    rows.append(Claim("Two copies' spacing changes their effect (Fig 2d)", "shown on RBFOX1 (RNCMPT00168)",
                      "RBFOX1 is not among the shipped experiments; spacing per experiment in chapter 08, and on "
                      "planted truth in the validation part", "-", "not testable here"))
    return pd.DataFrame([c.row() for c in rows], columns=COLUMNS)


def _vts1(results_dir: str | os.PathLike) -> Claim:
    claim, paper = "VTS1's motif counts more in a hairpin loop, sequence-only model (Fig 3c)", "loop > stem"
    rec = find_results(results_dir, "VTS1", "06_structure_vts1")
    if rec is None:
        return _absent(claim, paper, "VTS1 structure")
    effect = (rec.get("structure_effect") or {}).get("seq") or {}
    verdict = str(effect.get("verdict") or "undetermined")
    here = (f"{verdict}: structure effect {_g(effect.get('mean'))} (95% CI {_g(effect.get('ci_low'))} to "
            f"{_g(effect.get('ci_high'))})")
    status = ("holds" if verdict == "prefers loop" else "not testable here" if verdict == "undetermined"
              else "not confirmed")
    return Claim(claim, paper, here, "loop - stem, each against unstructured, bootstrap CI", status)


def _gc(results_dir: str | os.PathLike) -> Claim:
    claim, paper = "Models prefer GC at the 3' end (Fig 4d-e)", "3' effect above 5' across experiments"
    rec = find_results(results_dir, ALL, "07_gc_bias")
    if rec is None:
        return _absent(claim, paper, "GC-bias")
    test = rec.get("across") or {}
    n, verdict = int(test.get("n") or 0), str(test.get("verdict") or "undetermined")
    here = (f"{verdict}: median 5'-3' difference {_g(test.get('median_difference'))} over {n} experiments "
            f"(p = {_g(test.get('pvalue'))})")
    if n < MIN_WILCOXON_N or verdict == "undetermined":
        status = "not testable here"
    else:
        status = "holds" if verdict == "3' bias" else "not confirmed"
    return Claim(claim, paper, here, "paired Wilcoxon signed-rank of the end interactions", status)


def glance_markdown(results_dir: str | os.PathLike, alpha: float = 0.05) -> str:
    """The table as Markdown, with its status rules in one line (the intro page includes it)."""
    table = claims(results_dir, alpha)
    sources = [(ALL, "03_benchmark"), (ALL, "07_gc_bias"), (ALL, "08_across_experiments"),
               ("VTS1", "06_structure_vts1")]
    if not any(results_path(results_dir, e, nb).is_file() for e, nb in sources):
        return "*No records yet: `make book` runs the chapters whose records this table reads.*\n"
    cells = table.astype(str).apply(lambda col: col.str.replace("|", "\\|", regex=False))
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join([*r[:-1], f"**{r[-1]}**"]) + " |" for r in cells.itertuples(index=False)]
    counts = table["status"].value_counts()
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUS)
    return ("\n".join(lines) + f"\n\n{len(table)} claims: {summary}. *holds*: the test passes; *partly*: some "
            "experiments or comparisons pass, or a goal is missed by a model that had not plateaued; *not "
            "confirmed*: the test ran and fails; *not testable here*: no record, too few experiments for the test "
            f"(a Wilcoxon signed-rank test needs n >= {MIN_WILCOXON_N}), every verdict undetermined, or the data "
            "are not shipped.\n")


# --------------------------------------------------------------------------- the paper map


@dataclass(frozen=True)
class Panel:
    """One panel of the paper: where the book reproduces it, on what data, how fully, and how it differs.

    ``status``: ``full`` (the paper's statistic and drawing on the paper's kind of data, however many experiments
    are shipped), ``partial`` (other data or proteins than the paper's, methods quoted rather than run, another
    statistic or drawing), ``absent``; ``kind``: ``real`` or ``simulated`` data."""

    panel: str
    what: str
    chapters: tuple[str, ...]
    data: str
    kind: str
    status: str
    statistic: str


PANELS: tuple[Panel, ...] = (
    Panel("Fig 1a", "ResidualBind against other methods", ("03_benchmark",), "ten real experiments", "real",
          "partial", "set-B Pearson r, paired Wilcoxon tests; ten experiments, not 244, published methods quoted"),
    Panel("Fig 1b", "predicted vs measured, clip", ("03_benchmark",), "A1CF, 2013 sample", "real", "partial",
          "the paper's scatter on A1CF instead of RNCMPT00169, a 30,000-probe sample"),
    Panel("Fig 1c", "predicted vs measured, log", ("03_benchmark", "02_residualbind"), "A1CF, 2013 sample",
          "real", "partial", "as Fig 1b"),
    Panel("Fig 1d", "clip vs log per experiment", ("03_benchmark",), "the two 2013 samples", "real", "partial",
          "n = 2: the difference is shown, no Wilcoxon test (it needs n >= 6)"),
    Panel("Fig 1e", "sequence vs +PU vs +PHIME", ("03_benchmark",), "the 2009 RBPs", "real", "partial",
          "paired at equal budgets, Wilcoxon; 2009 RBPs instead of 244 2013 experiments, seven of them outputs "
          "of multi-task models"),
    Panel("Fig 1f", "histogram of sequence minus +PHIME", ("03_benchmark",), "the 2009 RBPs", "real", "partial",
          "the paper's histogram, over the 2009 RBPs"),
    Panel("Fig 2a", "scatter by mismatches with ISM logos", ("04_ism",), "A1CF, ANKHD1, 2013 sample", "real",
          "partial", "the paper's drawing; RBFOX1 is not shipped, so A1CF and ANKHD1 with their motifs"),
    Panel("Fig 2b", "local importance of 1-3 copies", ("05_gia",), "A1CF on the page, all ten in records",
          "real", "partial", "the paper's box plots; verdict: 3 copies vs the copies alone, with a CI"),
    Panel("Fig 2c", "1-3 copies of the sub-optimal motif", ("05_gia",), "as Fig 2b", "real", "partial",
          "the best 2-mismatch variant of the top k-mer, as the paper chose AGAAUG"),
    Panel("Fig 2d", "spacing of two copies", ("05_gia", "08_across_experiments"), "top 6-mer of each experiment",
          "real", "partial", "the paper's box plots and pairs, beside two copies over the two alone (CI)"),
    Panel("Fig 2e", "GIA motif mutagenesis", ("05_gia",), "A1CF on the page", "real", "partial",
          "the L2 logo beside every variant's global importance, on A1CF instead of RBFOX1"),
    Panel("Fig 2f", "ln Kd against global importance", ("10_ground_truth",), "simulated RBFOX1", "simulated",
          "partial", "the paper's regression on planted affinities: a method check, not the paper's result"),
    Panel("Fig 2g", "multiplicity across experiments", ("08_across_experiments",), "ten real experiments",
          "real", "full", "histograms over experiments (ten, not 244), the ratio beside the R^2"),
    Panel("Fig 3a", "VTS1 scatter and ISM of the sequence-only model", ("04_ism",), "VTS1, 2009", "real", "full",
          "the paper's scatter, logos and PU tracks"),
    Panel("Fig 3b", "VTS1's GIA mutagenesis", ("06_structure_vts1",), "VTS1, 2009", "real", "full",
          "the L2 logo beside every variant's global importance"),
    Panel("Fig 3c", "top 6-mer in hairpin loop vs stem", ("06_structure_vts1",), "VTS1, 2009", "real", "full",
          "the paper's box plots; the claim is a difference in differences with a CI"),
    Panel("Fig 4a", "ISM of the top-10 predicted probes, 3' GC", ("07_gc_bias",), "ten real experiments", "real",
          "partial", "a Wilcoxon test of 3' vs 5' G/C importance instead of logos read by eye"),
    Panel("Fig 4b", "GIA motif vs RNAcompete motif", ("05_gia", "08_across_experiments"), "ten real experiments",
          "real", "full", "best-offset Pearson r of the matrices"),
    Panel("Fig 4c", "GC at the 5' / 3' end", ("05_gia", "07_gc_bias"), "ten real experiments", "real", "full",
          "the paper's box plots beside the global importances; an amplify-or-add interaction test added"),
    Panel("Fig 4d", "histogram of the 5' and 3' effect sizes", ("07_gc_bias",), "ten real experiments", "real",
          "full", "the paper's histograms"),
    Panel("Fig 4e", "histogram of 5' minus 3'", ("07_gc_bias",), "ten real experiments", "real", "full",
          "the paper's histogram, and a paired test of the end interactions"),
    Panel("Supp. Table 1", "motif similarity per experiment", ("08_across_experiments",), "ten real experiments",
          "real", "full", "per experiment, against the RNAcompete motifs of Ray et al. 2013"),
)


def panels_table() -> pd.DataFrame:
    """:data:`PANELS` as a table (the paper map and the closing notes print it)."""
    return pd.DataFrame([{"panel": p.panel, "what": p.what, "chapter": ", ".join(p.chapters), "data": p.data,
                          "kind": p.kind, "status": p.status, "statistic or difference": p.statistic}
                         for p in PANELS])


def panels_markdown() -> str:
    """The paper map's table (Markdown, chapters linked), with the count of each status."""
    lines = ["| panel | chapter | data | status | the paper's statistic, or how it differs |", "|---|---|---|---|---|"]
    for p in PANELS:
        links = ", ".join(f"{{doc}}`/notebooks/executed/{c}`" for c in p.chapters)
        lines.append(f"| {p.panel}: {p.what} | {links} | {p.data} | **{p.status}**, {p.kind} | {p.statistic} |")
    counts = pd.Series([p.status for p in PANELS]).value_counts()
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("full", "partial", "absent"))
    kinds = pd.Series([p.kind for p in PANELS]).value_counts()
    return ("\n".join(lines) + f"\n\n{len(PANELS)} panels: {summary}; {kinds.get('real', 0)} on real data, "
            f"{kinds.get('simulated', 0)} on simulated data.\n")


def fig_goals(results_dir: str | os.PathLike):
    """The summary figure of the intro: each accuracy goal's measured set-B r against its published target (filled:
    every model behind it had plateaued), from the Performance record; a note when there is none yet."""
    import matplotlib.pyplot as plt

    from ..plotting import fit_figsize

    bench = find_results(results_dir, ALL, "03_benchmark")
    goals = (bench or {}).get("goals") or []
    fig, ax = plt.subplots(figsize=fit_figsize((6.5, 0.45 * max(len(goals), 2) + 1.0)))
    if not goals:
        ax.text(0.5, 0.5, "no Performance record yet: make book", ha="center", va="center")
        ax.set_axis_off()
        return fig
    names = [str(g["goal"]).split(" (")[0] for g in goals][::-1]
    y = np.arange(len(goals))
    rows = goals[::-1]
    ax.scatter([g["target"] for g in rows], y, marker="|", s=300, color="k", label="published target")
    for yi, g in zip(y, rows):
        ax.scatter([g["measured"]], [yi], s=40, color="C0",
                   facecolors="C0" if _every_plateaued(g.get("plateaued")) else "white")
    ax.scatter([], [], s=40, color="C0", label="this build (filled: plateaued)")
    ax.set_yticks(y, names)
    ax.set_xlabel("set-B Pearson r")
    ax.legend(frameon=False, fontsize="small", loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2)
    fig.tight_layout()
    return fig
