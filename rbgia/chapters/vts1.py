"""Chapter 06 (secondary structure, VTS1, Fig 3): the hairpin test on the sequence and structure models, the
chapter's tables, findings and record."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import background as backgrounds
from .. import paper
from ..errors import DataError
from ..hairpin import CONDITIONS, Hairpin, hairpin_context
from ..model_cache import TrainedModel
from ..records import scan_record
from ..scan import adaptive_kmer_scan
from ..session import GIA
from .battery import BATTERY, SENSITIVITY, top_kmers_of
from .records import SCHEMAS, as_record, make_record, read_record
from .report import _f
from .results import results_path


def fig_hairpin(tests: Mapping[str, Hairpin]):
    """Box plots of the five hairpin embeddings per model (Fig 3c), titled with the structure effect."""
    from ..plotting import local_importance_boxplot, panels

    # one model a row: five two-line labels need the page's width
    fig, axes = panels(len(tests), max_per_row=1, height=3.2)
    for ax, (label, t) in zip(axes, tests.items()):
        e = t.structure_effect
        groups = {k.replace(", ", ",\n").replace(" (", "\n(").replace("arm only", "arm\nonly"): v
                  for k, v in t.local_effects().items()}
        local_importance_boxplot(groups, ax=ax, fit=False, xlabel="",
                                 title=f"{label}: structure effect {_f(e.mean, '.3g')} ({_f(e.ci_low, '.3g')} to "
                                 f"{_f(e.ci_high, '.3g')}), {t.verdict}")
        ax.title.set_fontsize(10)
        ax.tick_params(axis="x", rotation=0)
    fig.tight_layout()
    return fig


def performance_vs_paper(models: Mapping[str, TrainedModel], reference_dir: str | os.PathLike,
                         dataset: str) -> pd.DataFrame:
    """Set-B Pearson r of each model beside the paper's (``reported_results.csv``) with the gap and the budget."""
    from .performance import read_reported

    reported = read_reported(Path(reference_dir) / "reported_results.csv", dataset=dataset)
    rows = []
    for kind, (_, meta, data) in models.items():  # TrainedModel: model, meta, data
        paper = reported.loc[reported["inputs"] == kind, "mean"]
        m = meta["metrics"]
        r = m["test_pearson"]
        rows.append({"inputs": kind, "test r (here)": r, "paper": float(paper.iloc[0]) if len(paper) else None,
                     "here - paper": r - float(paper.iloc[0]) if len(paper) else None,
                     "epochs run": m.get("epochs_run"), "stopped early": m.get("stopped_early"),
                     "training probes": len(data.train.x)})
    return pd.DataFrame(rows)


def hairpin_tests(models: Mapping[str, TrainedModel], motif: str, *, background: str = "profile",
                  num_background: int = 300, loop_start: int = paper.HAIRPIN_LOOP_START,
                  stem_start: int = paper.HAIRPIN_STEM_START, seed: int = 0, **kw: Any) -> dict[str, Hairpin]:
    """:func:`rbgia.experiments.hairpin_context` (Fig 3c) for each model (``{inputs: Hairpin}``), on one
    background drawn from the sequence data's training probes; structure models get the structure of every
    embedded sequence recomputed."""
    data = next(iter(models.values()))[2]
    bg = backgrounds.make_background(background, data.train.x[..., :4], n=num_background, seed=seed,
                                     y=data.train.y[:, 0])
    return {kind: hairpin_context(GIA(m, bg), motif, loop_start, stem_start,
                                 recompute_structure=False if kind == "seq" else kind, seed=seed, **kw)
            for kind, (m, _, _) in models.items()}  # TrainedModel: model, meta, data


def hairpin_sensitivity(models: Mapping[str, TrainedModel], motif: str, tests: Mapping[str, Any], *,
                        background: str = "profile", kinds: Sequence[str] = SENSITIVITY, **kw: Any) -> pd.DataFrame:
    """The hairpin verdict of each model on ``background`` (``tests``, from :func:`hairpin_tests`) and again on
    each other background kind in ``kinds`` (``kw`` as :func:`hairpin_tests`), with whether they all agree: the
    VTS1 row of the battery's background sensitivity (chapter 08)."""
    others = {kind: hairpin_tests(models, motif, background=kind, **kw) for kind in kinds if kind != background}
    rows = []
    for name, test in tests.items():
        said = {background: as_record(test).verdict, **{kind: as_record(o[name]).verdict for kind, o in others.items()}}
        rows.append({"model": name, **said, "agree": len(set(said.values())) == 1})
    return pd.DataFrame(rows)


def structure_table(tests: Mapping[str, Any]) -> pd.DataFrame:
    """One row per model (``{inputs: Hairpin or hairpin record}``): the verdict, the structure effect with CI and
    p, its two contrasts (loop context, pairing), and the folding checks."""
    rows = []
    for kind, t in tests.items():
        h = as_record(t)
        folded = "not checked" if h.n_folded is None else f"{h.n_folded} of {h.n_designed}"
        rows.append({"model": kind, "verdict": h.verdict, "structure effect": h.mean, "CI low": h.ci_low,
                     "CI high": h.ci_high, "p-value": h.pvalue, "loop context": h.loop_context.mean,
                     "pairing": h.pairing.mean, "folded as designed": folded})
    return pd.DataFrame(rows)


def embedding_table(tests: Mapping[str, Any]) -> pd.DataFrame:
    """One row per model and embedding: its global importance and the motif's unpaired probability (ViennaRNA)."""
    rows = []
    for kind, t in tests.items():
        h = as_record(t)
        unpaired = h.unpaired or {}
        rows += [{"model": kind, "embedding": name.replace("_", " "), "global importance": h[name].mean,
                  "motif unpaired": unpaired.get(name)} for name in CONDITIONS]
    return pd.DataFrame(rows)


def top_kmers_or_scan(results_dir: str | os.PathLike, experiment: str, model: Any, data: Any, *,
                      k: int = paper.KMER_LENGTH, start: int = paper.MOTIF_START, num_background: int = 300,
                      n_screen: int = 50, seed: int = 0) -> tuple[list[dict], str]:
    """The experiment's top 10 k-mers from its battery record (the gia jobs), else from an adaptive scan
    (:func:`rbgia.records.scan_record` rows either way: ``kmer`` first)."""
    found = top_kmers_of(results_dir, experiment)
    if found is not None and len(found[0].kmer) == k:
        return found, f"{BATTERY} record"
    bg = backgrounds.make_background("profile", data.train.x[..., :4], n=num_background, seed=seed)
    scanned = adaptive_kmer_scan(GIA(model, bg), k=k, start=start, n_screen=min(n_screen, len(bg) - 1), seed=seed)
    return scan_record(scanned, 10)["top_kmers"], "adaptive scan"


def structure_findings(table: pd.DataFrame, sensitivity: pd.DataFrame | None = None) -> str:
    """One sentence per model of :func:`structure_table`: the structure effect, its contrasts, the verdict; then,
    given :func:`hairpin_sensitivity`, whether each verdict holds on the other backgrounds."""
    lines = [
        f"- {row['model']}: structure effect {_f(row['structure effect'], '.3g')} (95% CI {_f(row['CI low'], '.3g')} "
        f"to {_f(row['CI high'], '.3g')}, p = {_f(row['p-value'], '.2g')}): **{row['verdict']}**; hairpin loop against "
        f"the broken stem {_f(row['loop context'], '.3g')}, what pairing adds in the stem {_f(row['pairing'], '.3g')}; "
        f"designed stem-loops that fold as intended: {row['folded as designed']}." for row in table.to_dict("records")]
    if sensitivity is not None and len(sensitivity):
        kinds = [c for c in sensitivity.columns if c not in ("model", "agree")]
        lines.append(f"- On the {', '.join(kinds)} backgrounds: " + "; ".join(
            f"{row['model']} " + ("the same verdict on every one" if row["agree"] else
                                  "differs (" + ", ".join(f"{k}: {row[k]}" for k in kinds) + ")")
            for row in sensitivity.to_dict("records")) + ".")
    return "\n".join(lines)


def structure_record(models: Mapping[str, TrainedModel], tests: Mapping[str, Hairpin], *, motif: str,
                     top_kmers: Sequence[Mapping[str, Any]], top_kmers_source: str, performance: Any = None,
                     sensitivity: pd.DataFrame | None = None, **extra: Any) -> dict[str, Any]:
    """The VTS1 chapter's record (kind ``structure``): ``test_pearson`` per model (``seq``, ``pu``),
    ``structure_effect`` per model (the hairpin record: ``mean``, ``ci_low``, ``ci_high`` of the structure
    effect, the verdict, folding, the four contexts), the top k-mers (``kmer`` first), the verdicts on other
    backgrounds (:func:`hairpin_sensitivity` rows, or ``None``); ``extra``
    (``config``, ``epochs``, ...) is kept beside the schema's keys."""
    clash = sorted(set(extra) & set(SCHEMAS["structure"]))
    if clash:
        raise DataError(f"structure_record got {clash} twice; pass them once, as its named arguments")
    if isinstance(performance, pd.DataFrame):
        performance = performance.to_dict("records")
    if isinstance(sensitivity, pd.DataFrame):
        sensitivity = sensitivity.to_dict("records")
    rec = make_record("structure", motif=motif, top_kmers=list(top_kmers), top_kmers_source=top_kmers_source,
                      test_pearson={kind: m.meta["metrics"]["test_pearson"] for kind, m in models.items()},
                      structure_effect=dict(tests), performance=performance,
                      sensitivity=sensitivity)
    return {**rec, **extra}


def fig_mutagenesis_of(results_dir: str | os.PathLike, experiment: str):
    """The GIA mutagenesis of an experiment's top k-mer from its battery record, L2 logo and per-variant bars
    (Fig 3b for VTS1); ``None`` when the experiment has no record yet."""
    from ..plotting import mutagenesis_panels

    if not results_path(results_dir, experiment, BATTERY).is_file():
        return None
    mm = read_record(results_dir, experiment, BATTERY, "mutagenesis", kind="battery")
    return mutagenesis_panels(np.asarray(mm.importance, float), mm.kmer, np.asarray(mm.ci_low, float),
                              np.asarray(mm.ci_high, float), title=f"{experiment}: {mm.kmer}")
