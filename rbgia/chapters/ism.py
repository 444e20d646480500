"""Chapter 04 (in silico mutagenesis, Fig 2a, 3a): probes picked by their match to the motif, their ISM and
the figures."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import motifs as rmotifs
from ..errors import DataError
from ..model_cache import TrainedModel
from ..mutagenesis import ism, ism_l2
from .records import make_record
from .report import _f, _plt
from .training import load_models


def predict_split(model: Any, split: Any) -> np.ndarray:
    """Predictions of ``model`` on a data split (batched)."""
    from ..inference import as_predict

    return np.asarray(as_predict(model)(split.x), float).reshape(len(split.x), -1)[:, 0]


def motif_probes(split: Any, pred: np.ndarray, motif: str, mismatches: Sequence[int] = (0, 2), n: int = 1
                 ) -> pd.DataFrame:
    """The ``n`` highest-predicted probes whose best match to ``motif`` has each number of ``mismatches``."""
    m = rmotifs.motif_matches(split.seqs, motif).assign(predicted=pred, measured=split.y[:, 0])
    parts = [m[m["mismatches"] == k].nlargest(n, "predicted").assign(kind=f"{k} mismatch{'es' * (k != 1)}")
             for k in mismatches]
    out = pd.concat(parts)
    return out.assign(seq=np.asarray(split.seqs)[out.index], index=out.index)


def high_low_probes(split: Any, pred: np.ndarray, motif: str, n: int = 2) -> pd.DataFrame:
    """Probes carrying ``motif`` exactly: the ``n`` highest- and ``n`` lowest-predicted (paper Fig 3a)."""
    m = rmotifs.motif_matches(split.seqs, motif).assign(predicted=pred, measured=split.y[:, 0])
    m = m[m["mismatches"] == 0]
    out = pd.concat([m.nlargest(n, "predicted").assign(kind="high"), m.nsmallest(n, "predicted").assign(kind="low")])
    return out.assign(seq=np.asarray(split.seqs)[out.index], index=out.index)


def ism_probes(
    model: Any, split: Any, probes: pd.DataFrame, motif: str | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """ISM of the chosen probes: ``deltas`` ``(n, L, 4)`` and the table with the importance inside the motif
    window relative to the rest (``inside``, ``outside``, ``ratio``)."""
    x = split.x[probes["index"].to_numpy()]
    deltas = ism(model, x)
    if motif:
        site = rmotifs.site_importance(ism_l2(deltas), x, probes["x_start"], len(motif))
        probes = pd.concat([probes.reset_index(drop=True), site], axis=1)
    return deltas, probes.reset_index(drop=True)


def fig_ism(deltas: np.ndarray, x: np.ndarray, probes: pd.DataFrame, motif: str | None = None,
            structure: np.ndarray | None = None):
    """ISM logos (L2 on the wild-type base) of the chosen probes, one row each; with ``structure``
    (the probes' PU channels) a structure track under each logo (Fig 3a). The motif's best windows (a
    ``motif`` column of ``probes``, else ``motif``; every window tied at the fewest mismatches) are shaded."""
    from ..plotting import ism_logo, page_width, structure_track

    rows = len(probes) * (2 if structure is not None else 1)
    fig, axes = _plt().subplots(rows, 1, figsize=(page_width(), 1.8 * rows), squeeze=False)
    step = 2 if structure is not None else 1
    for i, (d, xi, row) in enumerate(zip(deltas, x, probes.itertuples())):
        ax = axes[i * step, 0]
        ism_logo(d, xi[:, :4], ax=ax, title=f"{row.kind}: predicted {row.predicted:.2f}, measured {row.measured:.2f}")
        site = getattr(row, "motif", None) or motif or ""
        starts = rmotifs.tied_windows([row.seq], site, length=xi.shape[0])[0] if site else []
        for start in starts:
            ax.axvspan(start - 0.5, start + len(site) - 0.5, color="gold", alpha=0.25, lw=0)
        if structure is not None:
            structure_track(structure[i], ax=axes[i * step + 1, 0])
    fig.tight_layout()
    return fig


def _mismatch_scatter(ax: Any, split: Any, pred: np.ndarray, motif: str, max_mismatches: int, title: str) -> None:
    plt = _plt()
    mm = np.minimum(rmotifs.motif_matches(split.seqs, motif)["mismatches"].to_numpy(), max_mismatches)
    y = split.y[:, 0]
    colors = plt.get_cmap("tab10").colors
    for k in range(max_mismatches, -1, -1):  # perfect matches drawn last, on top
        sel = mm == k
        plus = "+" if k == max_mismatches else ""
        label = f"{k}{plus} mismatch{'es' if plus or k != 1 else ''} (n = {sel.sum()})"
        ax.scatter(y[sel], pred[sel], s=3, alpha=0.5, color=colors[k], lw=0, label=label, rasterized=True)
    r = float(np.corrcoef(y, pred)[0, 1])
    ax.set_xlabel("measured (set B)")
    ax.set_ylabel("predicted")
    ax.set_title(f"{title} r = {r:.3f}", fontsize=10)
    ax.legend(fontsize=8, markerscale=3, title=f"best match to {motif}", title_fontsize=8, loc="upper left")


def fig_mismatch_scatter(split: Any, pred: np.ndarray, motif: str, max_mismatches: int = 3, title: str = ""):
    """Measured vs predicted on set B coloured by mismatches to ``motif`` (a discrete palette; Fig 3a)."""
    from ..plotting import fit_figsize

    fig, ax = _plt().subplots(figsize=fit_figsize((5.5, 4.2)))
    _mismatch_scatter(ax, split, pred, motif, max_mismatches, title)
    fig.tight_layout()
    return fig


def fig_mismatch_scatters(scatters: Mapping[str, tuple], max_mismatches: int = 3):
    """Fig 2a's scatter per experiment: measured vs predicted on set B, coloured by mismatches to its motif."""
    from ..plotting import panels

    fig, axes = panels(len(scatters), max_per_row=2, height=3.6)
    for ax, (exp, (split, pred, motif)) in zip(axes, scatters.items()):
        _mismatch_scatter(ax, split, pred, motif, max_mismatches, f"{exp}:")
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class IsmProbes:
    """The ISM of chosen probes: ``deltas`` ``(n, L, 4)``, their one-hot ``x`` ``(n, L, C)`` and the ``table``
    (one row per probe: ``kind``, ``seq``, ``predicted``, ``measured``, the motif window and the importance
    inside it over outside it). ``structure`` is the probes' structure channels ``(n, L, S)`` (VTS1, Fig 3a)
    and ``pred`` the model's predictions on the whole test set (VTS1 scatter), else None. ``scatters``: per
    experiment of Fig 2a, ``(test split, predictions, motif)`` for its scatter coloured by mismatches."""

    deltas: np.ndarray
    x: np.ndarray
    table: pd.DataFrame
    structure: np.ndarray | None = None
    pred: np.ndarray | None = None
    scatters: dict = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """The table as JSON-ready rows (without the probe index)."""
        return self.table.drop(columns=["index"], errors="ignore").to_dict("records")


@dataclass(frozen=True)
class IsmChapter:
    """Chapter 04's record: the 2013 examples (Fig 2a) and the VTS1 probes (Fig 3a)."""

    experiments: list[str]
    vts1: str
    vts1_motif: str
    examples: IsmProbes
    vts1_probes: IsmProbes

    def to_record(self) -> dict[str, Any]:
        """The JSON-ready ``ism_examples`` record."""
        mean_ratio = self.examples.table.groupby("kind")["ratio"].mean().to_dict()
        return make_record("ism_examples", experiments=list(self.experiments), vts1=self.vts1,
                           vts1_motif=self.vts1_motif, examples=self.examples.rows(), mean_ratio=mean_ratio,
                           vts1_probes=self.vts1_probes.rows())


def ism_motif_examples(
    data_dir: str | os.PathLike, experiments: Sequence[str], *, reference_dir: str | os.PathLike,
    mismatches: Sequence[int] = (0, 2), n: int = 1, **train_kw: Any,
) -> IsmProbes:
    """Fig 2a on real data: per experiment, the ``n`` highest-predicted test probes with a best match of
    each number of ``mismatches`` to the experiment's RNAcompete motif, and their ISM.

    Returns :class:`IsmProbes` over all experiments (one row per probe, ``experiment`` and ``motif``
    columns), ready for :func:`fig_ism`.
    """
    deltas, xs, tables, scatters = [], [], [], {}
    for exp in experiments:
        (model, meta, data), = load_models(data_dir, exp, ["seq"], **train_kw).values()  # one TrainedModel
        motif = rmotifs.known_motif(data_dir, exp, reference_dir)
        if not motif:
            raise DataError(f"no RNAcompete motif for {exp} in {reference_dir}/{rmotifs.RNACOMPETE_MEME}; "
                            "pass a 2013 experiment")
        pred = predict_split(model, data.test)
        scatters[exp] = (data.test, pred, motif)
        chosen = motif_probes(data.test, pred, motif, mismatches, n)
        if chosen.empty:  # no test probe matches the motif that well
            continue
        d, table = ism_probes(model, data.test, chosen, motif)
        deltas.append(d)
        xs.append(data.test.x[chosen["index"].to_numpy()])
        tables.append(table.assign(experiment=exp, motif=motif, test_r=meta["metrics"]["test_pearson"]))
    if not tables:
        raise DataError(f"no test probe of {list(experiments)} matches its motif with {list(mismatches)} mismatches; "
                        "pass other mismatches")
    table = pd.concat(tables, ignore_index=True)
    table["kind"] = table["experiment"] + ", " + table["kind"]
    return IsmProbes(np.concatenate(deltas), np.concatenate(xs), table, scatters=scatters)


def vts1_ism(models: Mapping[str, TrainedModel], motif: str = "GCUGG", n: int = 2,
             structure_inputs: str = "pu") -> IsmProbes:
    """Fig 3a: ISM of the SEQUENCE-ONLY model on ``n`` high- and ``n`` low-predicted set-B probes that carry
    ``motif``, with their PU profiles (from the structure dataset) for the track under each logo."""
    model, _, data = models["seq"]
    pred = predict_split(model, data.test)
    chosen = high_low_probes(data.test, pred, motif, n)
    deltas, table = ism_probes(model, data.test, chosen, motif)
    idx = chosen["index"].to_numpy()
    structure = models[structure_inputs].data.test.x[idx][..., 4:] if structure_inputs in models else None
    if structure is not None:
        same = np.array_equal(models[structure_inputs].data.test.seqs[idx], data.test.seqs[idx])
        if not same:
            raise DataError("the sequence and structure datasets order set B differently; load both with one data_seed")
        # structure channel 1 is the unpaired probability (0: paired)
        table["unpaired at motif"] = [float(s[a: a + len(motif), 1].mean())
                                      for s, a in zip(structure, table["x_start"])]
    return IsmProbes(deltas, data.test.x[idx], table, structure, pred)


def ism_findings(examples: pd.DataFrame, vts1: pd.DataFrame | None = None) -> str:
    """Mean ISM importance inside the motif window over outside it, per kind of probe (Fig 2a, 3a)."""
    lines = [f"- {kind}: inside/outside importance ratio {_f(r, '.2f')}"
             for kind, r in examples.groupby("kind", sort=False)["ratio"].mean().items()]
    if vts1 is not None and len(vts1):
        by = vts1.groupby("kind", sort=False)
        cols = {"ratio": "inside/outside ratio", "unpaired at motif": "unpaired probability over the motif"}
        for kind, sub in by:
            lines.append(f"- VTS1 {kind}-predicted probes with the motif: " + ", ".join(
                f"{word} {_f(float(sub[c].mean()), '.2f')}" for c, word in cols.items() if c in sub))
    return "\n".join(lines)
