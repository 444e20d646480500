"""Chapter 07 (GC bias, Fig 4): the GC-bias verdicts across experiments, the ISM test of the top probes (Fig 4a)
and the figures."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..gcbias import relative_bias
from ..mutagenesis import ism, ism_l2
from ..records import GC_CONDITIONS
from ..stats import wilcoxon_paired
from ..verdicts import ALPHA, motif_stands_out
from .ism import predict_split
from .records import as_record, make_record
from .report import _f, verdict_counts


def motif_significant(gc: Any) -> bool:
    """Whether the motif alone of a GC-bias result (or its record) has an effect by the gate of every verdict
    (:func:`rbgia.verdicts.motif_effect`: p < ALPHA_EFFECT and at least MIN_EFFECT of the predictions' sd)."""
    g = as_record(gc)
    return bool((g.motif_effect or {}).get("present"))


def bias_end(gc: Any) -> str:
    """The end whose GC run amplifies the motif more (the GC-bias result's ``biased_end``: from the interaction
    3' - 5', read against the motif's sign): ``"3'"``, ``"5'"``, ``"none"``, ``"no effect"`` or ``"undetermined"``."""
    b = as_record(gc).bias
    return "undetermined" if b is None else str(b.verdict)


@dataclass(frozen=True)
class IsmGC3:
    """ISM of the top predicted probes: G/C importance at the 3' end against the 5' end (Fig 4a).

    Attributes
    ----------
    gc3_l2, gc5_l2
        Mean over the probes of the mean ISM L2 of the G/C bases in the last / first ``window`` nt.
    median_difference, statistic, pvalue
        One-sided (3' > 5') Wilcoxon signed-rank test over the probes (NaN: no informative pair).
    verdict
        ``"3' bias"`` when ``pvalue < alpha``, else ``"no 3' bias"``.
    """

    n_probes: int
    window: int
    gc3_l2: float
    gc5_l2: float
    median_difference: float
    statistic: float
    pvalue: float
    verdict: str

    def to_record(self) -> dict[str, Any]:
        """Record of kind ``ism_gc3``."""
        return make_record("ism_gc3", **dataclasses.asdict(self))


def ism_gc3(model: Any, split: Any, pred: np.ndarray | None = None, *, n_top: int = 10, window: int = 7,
            alpha: float = ALPHA) -> IsmGC3:
    """Does ISM of the top predicted probes put importance on G/C at the 3' end (paper Fig 4a)?

    Per probe: the mean ISM L2 of the G/C bases in the last ``window`` nt of the probe and that of
    the G/C bases in its first ``window`` nt (padding excluded); a one-sided Wilcoxon signed-rank
    test of the 3' against the 5' values over the ``n_top`` probes (see :class:`IsmGC3`).
    """
    pred = predict_split(model, split) if pred is None else pred
    idx = np.argsort(-pred, kind="stable")[:n_top]
    x = split.x[idx]
    l2 = ism_l2(ism(model, x))
    gc_base = x[..., 1] + x[..., 2] > 0
    five, three = [], []
    for xi, li, gi in zip(x, l2, gc_base):  # n_top probes, no model call
        present = np.flatnonzero(xi[:, :4].sum(-1) > 0)
        w5, w3 = present[:window], present[-window:]
        five.append(li[w5][gi[w5]].mean() if gi[w5].any() else 0.0)
        three.append(li[w3][gi[w3]].mean() if gi[w3].any() else 0.0)
    five, three = np.array(five), np.array(three)
    try:
        t = wilcoxon_paired(three, five, alternative="greater")
        median, statistic, p = t.median_difference, t.statistic, t.pvalue
    except DataError:
        median, statistic, p = 0.0, float("nan"), float("nan")
    return IsmGC3(int(len(idx)), int(window), float(three.mean()), float(five.mean()), float(median),
                  float(statistic), float(p), "3' bias" if np.isfinite(p) and p < alpha else "no 3' bias")


def gc_table(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per experiment: whether the battery's motif stands out and has an effect, the paper's effect sizes, the
    interaction at each end with its verdict, the end bias (interaction 3' - 5', relative to the motif) and the ISM
    statistic."""
    rows = []
    for exp, rec in records.items():
        r = as_record(rec)
        g, i = r.gc, r.ism_gc3 or {}
        i3, i5, b = g.interaction3 or {}, g.interaction5 or {}, g.bias or {}
        stands_out = motif_stands_out(r.scan.standout.verdict, r.scan.top_kmer, r.motif)
        rows.append({"experiment": exp, "motif": g.motif, "motif stands out": stands_out,
                     "motif significant": motif_significant(g),
                     "effect 5'": g.effect5.mean, "effect 3'": g.effect3.mean, "effect 5' - 3'": g.diff.mean,
                     "GC 3' alone": g.importance.gc3.mean,
                     "interaction 5'": i5.get("mean"), "interaction 5' p": i5.get("pvalue"),
                     "5' verdict": i5.get("verdict"), "interaction 3'": i3.get("mean"),
                     "interaction 3' p": i3.get("pvalue"), "3' verdict": i3.get("verdict"),
                     "3' - 5' interaction": b.get("mean"), "3' - 5' CI low": b.get("ci_low"),
                     "3' - 5' CI high": b.get("ci_high"), "relative 3' - 5'": relative_bias(g),
                     "biased end": bias_end(g), "ISM 3' minus 5' GC": i.get("median_difference"),
                     "ISM p": i.get("pvalue"), "ISM verdict": i.get("verdict")})
    return pd.DataFrame(rows)


def fig_gc(battery: Any):
    """Fig 4c: left, the paper's statistic, box plots of the local importance of the motif, the motif with the GC run
    at each end and the GC run alone (median and global importance marked); right, the global importances with
    95% CIs. From a battery or its record (box plots then drawn from the stored quantiles)."""
    rec = as_record(battery)
    g = rec.gc
    names = ("motif", "+GC 5'", "+GC 3'", "GC 5'", "GC 3'")  # GC_CONDITIONS, in short words (the caption says more)
    imp = [g.importance[k] for k in GC_CONDITIONS]
    y = np.array([i.mean for i in imp], float)
    err = np.abs(np.vstack([y - np.array([i.ci_low for i in imp], float), np.array([i.ci_high for i in imp], float)
                            - y]))
    from ..plotting import local_importance_boxplot, panels

    fig, (left, right) = panels(2, height=3.4)
    source = getattr(battery, "gc", None)
    local_importance_boxplot(source if hasattr(source, "local_effects") else dict(g), ax=left, fit=False,
                             xlabel="embedding", title=f"{rec.experiment}: {g.motif} with {g.gc_motif}")
    right.bar(list(names), y, yerr=err, color=["C0", "C1", "C2", "C7", "C7"], capsize=4)
    right.set_ylabel("global importance")
    right.set_title(f"GC at 1-based starts {g.gc_starts[0] + 1} and {g.gc_starts[1] + 1}", fontsize=10)
    for ax in (left, right):
        ax.set_xticks(ax.get_xticks(), names, rotation=45, ha="right", fontsize=8)
    fig.tight_layout()
    return fig


def fig_histograms(table: pd.DataFrame, columns: Mapping[str, float], title: str = "",
                   labels: Mapping[str, str] | None = None):
    """Histograms over experiments of ``columns`` (name -> reference line, named by ``labels``, e.g. "additive"),
    at most 3 a row (Fig 2g, 4d-e)."""
    from ..plotting import hist, panels

    fig, axes = panels(len(columns), height=3.0)
    for ax, (col, ref) in zip(axes, columns.items()):
        hist(table[col].astype(float), ax=ax, bins=10, xlabel=col, ylabel="experiments", vline=ref, title=title,
             vline_label=f"{(labels or {})[col]} ({ref:g})" if col in (labels or {}) else None)
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class GCAcross:
    """The end bias across experiments (Fig 4d-e's question, on a statistic an additive GC effect leaves at 0).

    Per experiment whose motif stands out (:func:`rbgia.verdicts.motif_stands_out`) and has an effect:
    ``(interaction 3' - interaction 5') / |motif|``, read against the motif's sign
    (:func:`rbgia.gcbias.relative_bias`); a one-sided Wilcoxon signed-rank test that it is above 0
    (exact for few experiments). ``verdict`` ``"3' bias"`` when ``pvalue < alpha``, ``"no 3' bias shown"``
    otherwise, ``"undetermined"`` when no experiment gives a nonzero value.
    """

    n: int
    median_effect5: float | None
    median_effect3: float | None
    median_difference: float | None
    statistic: float | None
    pvalue: float | None
    n_pairs: int
    verdict: str

    def to_record(self) -> dict[str, Any]:
        return make_record("gc_across_test", **dataclasses.asdict(self))


def tested_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`gc_table` the across-experiment test uses: the motif stands out and has an effect."""
    return table[table["motif significant"].astype(bool) & table["motif stands out"].astype(bool)]


def gc_across(table: pd.DataFrame, alpha: float = ALPHA) -> GCAcross:
    """:class:`GCAcross` over the rows of :func:`gc_table` (:func:`tested_rows`)."""
    sub = tested_rows(table)
    rel = pd.to_numeric(sub["relative 3' - 5'"], errors="coerce").dropna()
    med = {end: float(sub[f"effect {end}'"].median()) if len(sub) else None for end in ("5", "3")}
    try:
        t = wilcoxon_paired(rel.to_numpy(float), np.zeros(len(rel)), alternative="greater")
    except DataError:  # no experiment with a nonzero end difference: nothing to test
        return GCAcross(len(sub), med["5"], med["3"], None, None, None, 0,
                        "undetermined" if len(sub) else "no 3' bias shown")
    verdict = "3' bias" if t.pvalue < alpha else "no 3' bias shown"
    return GCAcross(len(sub), med["5"], med["3"], t.median_difference, t.statistic, t.pvalue, t.n, verdict)


@dataclass(frozen=True, eq=False)
class GCChapter:
    """Chapter 07's record: the per-experiment table and the across-experiment test."""

    experiments: tuple[str, ...]
    table: pd.DataFrame
    across: GCAcross

    def to_record(self) -> dict[str, Any]:
        per = self.table.set_index("experiment").astype(object)
        return make_record("gc_chapter", experiments=list(self.experiments), across=self.across,
                           per_experiment=per.where(per.notna(), None).to_dict("index"))


def gc_findings(table: pd.DataFrame, across: GCAcross) -> str:
    """The GC chapter's closing sentences (verdict counts and the across-experiment test)."""
    v3, v5 = verdict_counts(table, "3' verdict"), verdict_counts(table, "5' verdict")
    return "\n".join([
        f"- Across the {across.n} experiments whose motif stands out and has an effect: the 3' GC run's interaction "
        f"with the motif minus the 5' one's, relative to the motif, has median {_f(across.median_difference, '.3g')}; "
        f"above 0 by a one-sided Wilcoxon signed-rank test: p = {_f(across.pvalue, '.2g')} (n = {across.n_pairs}): "
        f"**{across.verdict}**. (The paper's effect sizes, median 5' {_f(across.median_effect5, '.2f')} and 3' "
        f"{_f(across.median_effect3, '.2f')}, move with the GC run's own effect and are not tested.)",
        f"- Biased end per experiment (interaction 3' - 5', CI excluding 0): {verdict_counts(table, 'biased end')}.",
        f"- The 3' GC run with the motif: {v3}; the 5' one: {v5}.",
        f"- ISM of the top predicted probes (G/C importance 3' vs 5'): {verdict_counts(table, 'ISM verdict')}.",
        *gia_vs_ism(table)])


def gia_vs_ism(table: pd.DataFrame) -> list[str]:
    """One sentence when GIA's biased end and ISM's 3' test disagree in how many experiments show a 3' bias:
    what each measures, so that a reader can weigh them; none when they agree."""
    n = len(table)
    n_gia = int((table["biased end"] == "3'").sum()) if "biased end" in table else 0
    n_ism = int((table["ISM verdict"] == "3' bias").sum()) if "ISM verdict" in table else 0
    if n == 0 or n_gia == n_ism:
        return []
    more, fewer = ("GIA", "ISM") if n_gia > n_ism else ("ISM", "GIA")
    return [f"- **GIA and ISM disagree**: GIA finds the 3' end favoured in {n_gia} of {n} experiments, ISM in "
            f"{n_ism}, so {more} sees the bias where {fewer} does not. They ask different questions: GIA embeds "
            "GCGCGC beside the motif in backgrounds that carry nothing else and measures what the model does with "
            "it; ISM measures how much the G/C already at the ends of the ten probes the model ranks highest adds "
            "to their predictions, which can stay small beside their motif sites, and ten probes make a weak test. "
            "A model can amplify a GC end it is given (GIA) while its best probes owe little to their own ends "
            "(ISM)."]
