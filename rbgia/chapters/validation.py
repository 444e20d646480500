"""GIA validated against planted truth: the same analyses on a trained model and on the noiseless oracle.

The simulated experiments (:mod:`rbgia.simulate`) were generated from planted rules written to
``truth.json``; their noiseless signal (:func:`rbgia.simulate.signal`) is an oracle predictor. The
real-data part of the book runs the k-mer scan with q-values (:mod:`rbgia.scan`) and the motif
experiments with verdicts (:mod:`rbgia.experiments`: multiplicity ratio, spacing against twice one
copy, GC amplify-or-add, the hairpin difference in differences with its fold check); here each runs
twice, on the same backgrounds, through the trained model and through the oracle, and
:func:`comparison_table` sets the statistics and verdicts side by side. Where the verdicts differ the
model has not learnt (or GIA cannot see) the planted rule; :func:`findings` says so in words taken
from the verdicts.

The oracle's k-mer scan covers only the panel of k-mers compared (the model's top k-mers, the
planted sites, the planted motif): the SIMVTS1 oracle folds every probe that carries a site
(~3 ms each), so an adaptive scan through it would cost minutes per experiment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import background as backgrounds
from .. import paper, records, simulate
from ..config import TrainConfig
from ..data import apply_transform
from ..errors import DataError
from ..experiments import multiplicity, spacing
from ..gcbias import gc_bias
from ..hairpin import hairpin_context
from ..motifs import kmer_matches
from ..scan import adaptive_kmer_scan, kmer_scan, standout
from ..session import GIA
from ..stats import bh_qvalues
from ..verdicts import UNDETERMINED
from .battery import KdRegression, kd_regression
from .records import make_record, read_record

STEM = "10_ground_truth"  # the chapter's notebook stem: its records are named after it
COLUMNS = ["experiment", "analysis", "statistic", "model", "model CI low", "model CI high", "model verdict",
           "oracle", "oracle CI low", "oracle CI high", "oracle verdict", "agree", "signal", "signal verdict"]


# --------------------------------------------------------------------------- the planted truth
def planted_truth(data_dir: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The planted rules of every simulated experiment (``truth.json``'s ``experiments``).

    Raises
    ------
    DataError
        ``data_dir`` has no ``truth.json``: names the command that writes it.
    """
    path = Path(data_dir) / "truth.json"
    if not path.is_file():
        raise DataError(f"no truth.json in {data_dir}; write the simulated data first "
                        f"(python -m rbgia.simulate {data_dir}, or make data)")
    return dict(json.loads(path.read_text())["experiments"])


def planted_rules(truth: Mapping[str, Mapping[str, Any]], experiments: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per experiment: motif, sites, minimum spacing, GC bias and structure rule."""
    names = list(truth) if experiments is None else list(experiments)
    return pd.DataFrame(
        [{"experiment": e, "motif": truth[e]["motif"] or "none", "sites": ", ".join(truth[e]["site_affinities"]),
          "min spacing": truth[e]["min_spacing"], "GC bias": (truth[e]["gc_bias"] or {}).get("region"),
          "structure": truth[e]["structure"]} for e in names])


def oracle(experiment: str, transform: Mapping[str, Any] | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """The noiseless planted truth of ``experiment`` as a predictor of one-hot ``(N, L, 4)`` arrays.

    Without ``transform``: the planted signal (:func:`rbgia.simulate.signal`). With a dataset's
    ``transform`` record (:func:`rbgia.data.load_rnacompete`'s ``.transform``): the expected raw
    score (:func:`rbgia.simulate.expected_score`) through the same score transform and z-scoring
    as the model's targets, i.e. the oracle on the model's scale. The log transform compresses
    large scores, so on that scale even a perfectly additive rule looks sub-additive.
    """
    simulate._experiment(experiment)  # unknown id: one-line DataError now, not at the first call

    def predict(x: np.ndarray) -> np.ndarray:
        if transform is None:
            return simulate.signal(experiment, np.asarray(x)[..., :4])
        t, _ = apply_transform(simulate.expected_score(experiment, np.asarray(x)[..., :4]), dict(transform),
                                transform["normalization"])
        return (t - transform["mean"]) / transform["sd"]

    predict.__name__ = f"oracle_{experiment}"
    return predict


# --------------------------------------------------------------------------- one predictor, one experiment
@dataclass(eq=False)
class Side:
    """The analyses of one predictor (model or oracle) on one experiment."""

    scan: pd.DataFrame
    multiplicity: Any
    spacing: Any
    gc: Any
    hairpin: Any

    def to_record(self) -> dict[str, Any]:
        """Record of kind ``validation_side``: the scan's top 10 k-mers and each experiment's record."""
        return make_record(
            "validation_side", top_kmers=records.scan_record(self.scan)["top_kmers"],
            multiplicity=self.multiplicity.to_record(), spacing=self.spacing.to_record(), gc=self.gc.to_record(),
            hairpin=self.hairpin.to_record())


def run_side(
    session: GIA, motif: str, scan: pd.DataFrame, *, kmer_start: int = paper.MOTIF_START,
    multiplicity_starts: Sequence[int] = paper.MULTIPLICITY_STARTS,
    spacing_pairs: Sequence[Sequence[int]] = paper.SPACING_PAIRS, loop_start: int = paper.HAIRPIN_LOOP_START,
    stem_start: int = paper.HAIRPIN_STEM_START, n_boot: int = 2000, seed: int = 0,
) -> Side:
    """The book's motif experiments on ``motif`` through one session, beside a given ``scan`` table."""
    pairs = [tuple(int(s) for s in p) for p in spacing_pairs]
    return Side(
        scan=scan,
        multiplicity=multiplicity(session, motif, tuple(int(s) for s in multiplicity_starts), n_boot=n_boot,
                                  seed=seed),
        spacing=spacing(session, motif, pairs, int(kmer_start), on_conflict="skip", n_boot=n_boot, seed=seed),
        gc=gc_bias(session, motif, int(kmer_start), n_boot=n_boot, seed=seed),
        hairpin=hairpin_context(session, motif, int(loop_start), int(stem_start), n_boot=n_boot, seed=seed),
    )


def panel_scan(session: GIA, kmers: Sequence[str], start: int = paper.MOTIF_START) -> pd.DataFrame:
    """The exhaustive scan of ``kmers`` only, ranked, with Benjamini-Hochberg q-values over those k-mers."""
    table = kmer_scan(session, kmers=list(kmers), start=int(start))
    table = table.sort_values("mean", ascending=False, kind="stable").reset_index(drop=True)
    table["qvalue"] = bh_qvalues(table["pvalue"].to_numpy(float))
    table.attrs["qvalue"] = f"Benjamini-Hochberg over the {len(table)} k-mers of the panel"
    return table


@dataclass(frozen=True, eq=False)
class Comparison:
    """Model and oracle on one simulated experiment (:func:`compare`).

    ``model.scan`` is the model's adaptive scan over all 4^k k-mers; ``model_panel`` and
    ``oracle.scan`` are the scans of the shared k-mer ``panel``; ``kmer_spearman`` is their rank
    agreement (None when either is constant).
    """

    experiment: str
    motif: str
    truth: dict
    model: Side
    oracle: Side
    model_panel: pd.DataFrame
    signal: Side | None
    panel: tuple[str, ...]
    top_kmer: str
    oracle_top_kmer: str
    n_background: int
    k: int
    kmer_spearman: float | None
    kd: Mapping[str, KdRegression] | None = None  # Fig 2f on planted truth: {"model": ..., "oracle": ...}

    def to_record(self, config: Any = None) -> dict[str, Any]:
        """Record of kind ``validation_comparison``: every side's record (``signal`` None without a
        transform) and the comparison table's rows; ``config`` is the model's training configuration
        (None when not known)."""
        return make_record(
            "validation_comparison", experiment=self.experiment, motif=self.motif, panel=list(self.panel),
            top_kmer=self.top_kmer, oracle_top_kmer=self.oracle_top_kmer, planted_motif=self.truth.get("motif"),
            n_background=self.n_background, k=self.k, kmer_spearman=self.kmer_spearman,
            model=self.model.to_record(), oracle=self.oracle.to_record(),
            signal=None if self.signal is None else self.signal.to_record(),
            table=comparison_table([self]).to_dict("records"), config=config,
            kd=None if self.kd is None else {name: reg.to_record() for name, reg in self.kd.items()})


def compare(
    model: Any, background: np.ndarray, experiment: str, truth: Mapping[str, Any], *, k: int = paper.KMER_LENGTH,
    kmer_start: int = paper.MOTIF_START, n_screen: int = 50, n_random_kmers: int = 20, seed: int = 0,
    transform: Mapping[str, Any] | None = None, kd_path: str | os.PathLike | None = None, **experiment_kw: Any,
) -> Comparison:
    """Run the book's analyses on the trained model and on the oracle of ``experiment``, same backgrounds.

    The motif is the planted one (the null experiment has none: the model's top k-mer). The k-mer
    panel both predictors scan: the model's top 10 (adaptive scan), the planted sites of length
    ``k`` and ``n_random_kmers`` random k-mers (seeded), for the rank comparison.
    ``experiment_kw`` go to :func:`run_side` (positions, ``n_boot``). With the dataset's score
    ``transform`` the oracle is on the model's scale (:func:`oracle`) and the raw planted signal
    runs too (``signal``): where the two differ, the score transform alone changes the verdict. With
    ``kd_path`` (the Auweter et al. 2006 table) and an RBFOX1 motif planted, Fig 2f's regression of ln Kd on
    the heptamers' global importance runs for the model and the oracle (``kd``): a check of the method on
    planted affinities, not the paper's result.
    """
    session = GIA(model, background)
    scan = adaptive_kmer_scan(session, k=k, start=kmer_start, n_screen=min(int(n_screen), session.n - 1),
                              seed=seed).table
    motif = truth.get("motif") or str(scan["kmer"].iloc[0])
    rng = np.random.default_rng(seed)
    random_kmers = ["".join(rng.choice(list("ACGU"), k)) for _ in range(int(n_random_kmers))]
    sites = [s for s in truth.get("site_affinities", {}) if len(s) == k]
    panel = list(dict.fromkeys([*scan["kmer"].head(10), *sites, *random_kmers]))
    side_kw = {"kmer_start": kmer_start, "seed": seed, **experiment_kw}
    model_side = run_side(session, motif, scan, **side_kw)
    truth_session = GIA(oracle(experiment, transform), background)
    oracle_side = run_side(truth_session, motif, panel_scan(truth_session, panel, kmer_start), **side_kw)
    signal_side = None
    if transform is not None:
        raw = GIA(oracle(experiment), background)
        signal_side = run_side(raw, motif, panel_scan(raw, panel, kmer_start), **side_kw)
    model_panel = panel_scan(session, panel, kmer_start)
    kd = None
    if kd_path is not None and truth.get("motif") == paper.RBFOX1_MOTIF:
        fits = {"model": kd_regression(session, kd_path, kmer_start, True),
                "oracle": kd_regression(truth_session, kd_path, kmer_start, True)}
        kd = fits if all(f is not None for f in fits.values()) else None
    return Comparison(experiment, motif, dict(truth), model_side, oracle_side, model_panel, signal_side,
                      tuple(panel), str(scan["kmer"].iloc[0]), str(oracle_side.scan["kmer"].iloc[0]),
                      int(session.n), int(k), _spearman(model_panel, oracle_side.scan), kd)


def _spearman(a: pd.DataFrame, b: pd.DataFrame) -> float | None:
    """Rank agreement of two scans over the same k-mers (None when either is constant)."""
    merged = a.set_index("kmer")["mean"].to_frame("a").join(b.set_index("kmer")["mean"].rename("b"), how="inner")
    if len(merged) < 3 or merged["a"].std() == 0 or merged["b"].std() == 0:
        return None
    return float(merged.rank().corr().iloc[0, 1])


# --------------------------------------------------------------------------- the comparison table
def _est_row(est: Any) -> tuple[float, float, float]:
    if est is None:
        return (float("nan"),) * 3
    return float(est.mean), float(est.ci_low), float(est.ci_high)


def _rows(side: Side, motif: str, planted: str | None, gated: bool = False
          ) -> list[tuple[str, str, tuple[float, float, float], str]]:
    """(analysis, statistic, (value, CI low, CI high), verdict) of one side, in a fixed order; ``gated``: the motif
    is the model's top k-mer that does not stand out, so every verdict about it is "undetermined"."""
    top = str(side.scan["kmer"].iloc[0])
    so = standout(side.scan)
    if so.verdict == "no motif":
        top_word = "no motif"
    elif not planted:
        top_word = "a motif that was not planted"
    else:
        top_word = "planted motif" if kmer_matches(top, planted) else "not the planted motif"
    m = side.multiplicity
    out = [("top k-mer " + top, "robust z of the top k-mer among the k-mers scanned", (so.z, np.nan, np.nan),
            top_word),
           (f"multiplicity, {len(m.starts)} copies of {motif}", f"{len(m.starts)} copies / the copies alone",
            _est_row(m.vs_additive), m.verdict)]
    sp = side.spacing
    for (a, b), est, verdict in zip(sp.pairs, sp.vs_additive, sp.verdicts):
        out.append((f"spacing {a + 1}+{b + 1} (gap {b - a - len(sp.motif)})", "2 copies / the 2 copies alone",
                    _est_row(est), verdict))
    gc = side.gc
    for end in ("5", "3"):
        out.append((f"GC run at the {end}' end", "interaction (motif+GC) - motif - GC",
                    _est_row(getattr(gc, f"interaction{end}")), getattr(gc, f"verdict{end}")))
    hp = side.hairpin
    folded = "" if hp.n_folded is None else f"; {hp.n_folded} of {hp.n_designed} designs fold"
    out.append(("hairpin loop vs stem" + folded, "structure effect (loop context - pairing)",
                _est_row(hp.structure_effect), hp.verdict))
    if gated:
        out[1:] = [(label, stat, est, UNDETERMINED) for label, stat, est, _ in out[1:]]
    return out


def comparison_table(comparisons: Sequence[Comparison]) -> pd.DataFrame:
    """Model against oracle, analysis by analysis, for every comparison.

    Columns :data:`COLUMNS`: the statistic (its value and 95% CI) and verdict of the model and
    of the oracle, and ``agree`` (same verdict). The top k-mer row's verdict says whether the
    scan's top k-mer stands out (:func:`rbgia.scan.standout`; its statistic is the robust z) and, when
    it does, whether it is the planted motif (:func:`rbgia.motifs.kmer_matches`).
    Rows are matched by position, not label: the ``analysis`` text
    (which names the model's top k-mer) is the model's.
    """
    rows = []
    for c in comparisons:
        planted = c.truth.get("motif")
        # the motif is the model's top k-mer (nothing planted): with no k-mer standing out there is no motif whose
        # combinations either predictor could be compared on (rbgia.verdicts.motif_gate)
        gated = not planted and standout(c.model.scan).verdict == "no motif"
        sides = [_rows(c.model, c.motif, planted, gated), _rows(c.oracle, c.motif, planted, gated)]
        raw = (_rows(c.signal, c.motif, planted, gated) if c.signal is not None
               else [(None, None, (np.nan,) * 3, None)] * len(sides[0]))
        for (label, stat, mv, mverd), (_, _, ov, overd), (_, _, sv, sverd) in zip(*sides, raw):
            rows.append([c.experiment, label, stat, *mv, mverd, *ov, overd, mverd == overd, sv[0], sverd])
    return pd.DataFrame(rows, columns=COLUMNS)


NULL_VERDICTS = ("no effect", "no structure effect", "adds", "additive", "additive, unequal copies", "no motif")


def findings(table: pd.DataFrame) -> str:
    """The comparison in words: the agreements counted, each disagreement named with both statistics.

    A disagreement where the oracle's verdict is a null one (:data:`NULL_VERDICTS`: no effect,
    no interaction, additive) is an effect the model reports that was not planted; otherwise the
    model has not learnt the planted rule.
    """
    if table.empty:
        return "No simulated experiment was compared."
    silent = int((table["agree"] & (table["model verdict"] == UNDETERMINED)).sum())
    lines = [f"The model's verdict agrees with the oracle's in {int(table['agree'].sum())} of {len(table)} "
             f"analyses over {table['experiment'].nunique()} experiments"
             + (f" ({silent} of them both *undetermined*: agreements to say nothing)." if silent else ".")]
    if (~table["agree"]).any():
        lines.append("*Where the model and the oracle disagree:*")
    for r in table[~table["agree"]].itertuples(index=False):
        what = ("the model reports an effect that was not planted" if r[10] in NULL_VERDICTS
                else "the model has not learnt this planted rule")
        lines.append(f"**{r.experiment}, {r[1]}:** the model gives *{r[6]}* ({_stat(r[3], r[4], r[5])}) where "
                     f"the oracle gives *{r[10]}* ({_stat(r[7], r[8], r[9])}): {what}.")
    apart = table["agree"] & ((table["model CI high"] < table["oracle CI low"])
                              | (table["model CI low"] > table["oracle CI high"]))
    if apart.any():
        lines.append("*Same verdict, different size* (95% CIs apart):")
    for r in table[apart].itertuples(index=False):
        lines.append(f"**{r.experiment}, {r[1]}:** both say *{r[6]}*, but the model's {_stat(r[3], r[4], r[5])} "
                     f"and the oracle's {_stat(r[7], r[8], r[9])} do not overlap: the model learnt this rule "
                     f"only in part.")
    for r in table[table["analysis"].str.startswith("top k-mer") & (table["oracle verdict"] == "no motif")
                   ].itertuples(index=False):
        lines.append(f"**{r.experiment}** plants no motif: the model's {r[1]} gives *{r[6]}* (robust z "
                     f"{_stat(r[3], np.nan, np.nan)}). Its response q-value can still be tiny: a q-value says the "
                     "model responds to a k-mer at all, not that it learned a motif, which is why the book's motif "
                     "verdict is whether the top k-mer stands out from the others.")
    if "signal verdict" in table:
        moved = table["signal verdict"].notna() & (table["signal verdict"] != table["oracle verdict"])
        if moved.any():
            lines.append("*What the score transform alone does* (a perfect model of the transformed scores would "
                         "give the oracle's verdict, not the planted signal's):")
        for r in table[moved].itertuples(index=False):
            value = _stat(r[12], np.nan, np.nan)
            lines.append(f"**{r.experiment}, {r[1]}:** the planted signal gives *{r[13]}* ({value}) but the oracle "
                         f"on the model's score scale *{r[10]}*: the score transform alone changes this verdict.")
    return "\n\n".join(lines)


def _stat(value: float, low: float, high: float) -> str:
    if not np.isfinite(value):
        return "undefined"
    ci = f", 95% CI {low:.3g} to {high:.3g}" if np.isfinite(low) and np.isfinite(high) else ""
    return f"{value:.3g}{ci}"


def spacing_ratios(comparisons: Sequence[Comparison]) -> pd.DataFrame:
    """Per experiment and pair: two copies / one copy (the paper's Fig 2d ratio), model and oracle."""
    rows = []
    for c in comparisons:
        for name, side in (("model", c.model), ("oracle", c.oracle), ("signal", c.signal)):
            if side is None:
                continue
            t = side.spacing.table
            for r in t[t["start_2"].notna()].itertuples(index=False):
                rows.append({"experiment": c.experiment, "predictor": name,
                             "pair": f"{r.start_1 + 1}+{r.start_2 + 1} (gap {r.gap})", "ratio": float(r.ratio)})
    df = pd.DataFrame(rows, columns=["experiment", "predictor", "pair", "ratio"])
    df["predictor"] = df["predictor"].replace({"signal": "planted signal"})
    return df.pivot_table(index=["experiment", "pair"], columns="predictor", values="ratio", sort=False).reset_index()


# --------------------------------------------------------------------------- the whole part
@dataclass(eq=False)
class Validation:
    """Every comparison of :func:`validate`, the trained models' test Pearson and the planted rules."""

    comparisons: list
    test_pearson: dict
    truth: dict
    data_dir: str
    config: dict
    controls: pd.DataFrame | None = None  # the verdict rules against their controls (rbgia.controls.run_controls)

    @property
    def table(self) -> pd.DataFrame:
        return comparison_table(self.comparisons)

    def to_record(self) -> dict[str, Any]:
        """Record of kind ``validation``: experiments, the comparison table, per-experiment records."""
        table = self.table
        return make_record(
            "validation", data_dir=self.data_dir, config=self.config,
            experiments=[c.experiment for c in self.comparisons], test_pearson=self.test_pearson,
            n_agree=int(table["agree"].sum()), n_analyses=len(table), table=table.to_dict("records"),
            per_experiment={c.experiment: c.to_record(self.config) for c in self.comparisons},
            controls=None if self.controls is None else self.controls.to_dict("records"))


def validate(
    data_dir: str | os.PathLike, experiments: Sequence[str] | None = None, *,
    results_dir: str | os.PathLike = "results", config: Any = None, epochs: int = 6, patience: int = 3,
    max_probes: int | None = None, background: str = "profile", num_background: int = 200, **compare_kw: Any,
) -> Validation:
    """Train (or load) the sequence model of each simulated experiment and :func:`compare` it with its oracle.

    ``experiments`` None: every experiment of ``truth.json`` that :mod:`rbgia.simulate` knows.
    ``config`` is the training configuration (a :class:`rbgia.config.TrainConfig`, its tag such as
    ``"log-seq-paper-s0"``, a mapping or None for the default). The backgrounds are drawn from each
    experiment's training probes (``background`` kind, ``num_background``) and the analyses seeded by
    ``compare_kw["seed"]``, by default the configuration's seed.
    """
    from ..model_cache import train_or_load

    truth = planted_truth(data_dir)
    names = [e for e in (experiments or truth) if e in simulate.EXPERIMENTS]
    unknown = [e for e in (experiments or []) if e not in truth]
    if unknown:
        raise DataError(f"{unknown} not in {data_dir}/truth.json; pick from {sorted(truth)}")
    config = TrainConfig.coerce(config)
    seed = int(compare_kw.setdefault("seed", config.seed))
    comparisons, pearson, cfg = [], {}, config.as_dict()
    for exp in names:  # a handful of experiments; every model call inside is batched
        model, meta, data = train_or_load(data_dir, exp, config, results_dir=results_dir, epochs=epochs,
                                          patience=patience, max_probes=max_probes, verbose=0)
        bg = backgrounds.make_background(background, data.train.x[..., :4], n=num_background, seed=seed,
                                         y=data.train.y[:, 0])
        comparisons.append(compare(model, bg, exp, truth[exp], transform=data.transform, **compare_kw))
        pearson[exp] = float(meta["metrics"]["test_pearson"])
        cfg = meta.get("config", cfg)
    return Validation(comparisons, pearson, {e: truth[e] for e in names}, str(Path(data_dir).resolve()), cfg)


def model_summary(validation: Validation) -> pd.DataFrame:
    """Per experiment: test Pearson, planted motif, the model's and the oracle's top k-mers, their rank
    agreement over the panel (Spearman) and how many verdicts agree."""
    table = validation.table
    rows = []
    for c in validation.comparisons:
        sub = table[table["experiment"] == c.experiment]
        rows.append({"experiment": c.experiment, "test Pearson": validation.test_pearson.get(c.experiment),
                     "planted motif": c.truth.get("motif") or "none", "model top k-mer": c.top_kmer,
                     "oracle top k-mer": c.oracle_top_kmer, "k-mer Spearman": c.kmer_spearman,
                     "verdicts agree": f"{int(sub['agree'].sum())} of {len(sub)}"})
    return pd.DataFrame(rows)


def read_validation(results_dir: str | os.PathLike, experiment: str | None = None, stem: str = STEM) -> Any:
    """The part's record (kind ``validation``) or, for an ``experiment``, its ``validation_comparison``
    record, read back through :func:`rbgia.chapters.records.read_record` (attribute access, schema checked)."""
    kind = "validation" if experiment is None else "validation_comparison"
    return read_record(results_dir, experiment, stem, kind=kind)


def write_validation(results_dir: str | os.PathLike, validation: Validation, stem: str = STEM) -> Path:
    """Write the part's record (``results_dir/<stem>.json``) and one per experiment; NaN stored as null."""
    from .results import write_results

    for c in validation.comparisons:
        write_results(results_dir, c.experiment, stem, c.to_record(validation.config), allow_nan=True)
    return write_results(results_dir, None, stem, validation.to_record(), allow_nan=True)


# --------------------------------------------------------------------------- figures
def fig_additivity(comparisons: Sequence[Comparison]):
    """Observed / additive expectation, model, oracle (and planted signal) with 95% CIs: multiplicity (n copies /
    the copies alone) and each spacing pair (2 copies / the two alone). 1 = additive; below 1: sub-additive or
    hindrance."""
    from ..plotting import panels

    fig, axes = panels(len(comparisons), height=3.2)  # own y scales: a null model's CI dwarfs the others
    for ax, c in zip(axes, comparisons):
        sides = [("model", c.model, "C0"), ("oracle", c.oracle, "C1"), ("planted signal", c.signal, "grey")]
        for shift, (name, side, colour) in zip((-0.2, 0.0, 0.2), [t for t in sides if t[1] is not None]):
            n = len(side.multiplicity.starts)
            ests = [(f"{n} copies", *_est_row(side.multiplicity.vs_additive))]
            ests += [(f"{a + 1}+{b + 1}", *_est_row(e))
                     for (a, b), e in zip(side.spacing.pairs, side.spacing.vs_additive)]
            x = np.arange(len(ests)) + shift
            mid = np.array([e[1] for e in ests])
            err = np.abs(np.array([[e[2] for e in ests], [e[3] for e in ests]]) - mid)
            ax.errorbar(x, mid, yerr=np.nan_to_num(err), fmt="o", color=colour, label=name, capsize=3)
        ax.axhline(1.0, color="grey", lw=0.8, ls="--")
        ax.set_xticks(np.arange(len(ests)), [e[0] for e in ests], rotation=30)
        ax.set_title(c.experiment)
    for ax in axes:
        ax.set_ylabel("observed / additive expectation" if ax.get_subplotspec().is_first_col() else "")
    axes[0].legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`comparison_table` for the page: each statistic and its 95% CI in one cell ("0.93 (0.90 to 0.96)"),
    so that every verdict column fits the column; the record keeps the separate numbers."""
    def joined(mid: Any, low: Any, high: Any) -> str:
        ok = [v is not None and np.isfinite(float(v)) for v in (mid, low, high)]
        if not ok[0]:
            return "n/a" if mid is None or np.isnan(float(mid)) else f"{float(mid):g}"  # inf: a z past any other
        return f"{float(mid):.3g}" + (f" ({float(low):.3g} to {float(high):.3g})" if all(ok[1:]) else "")

    out = table.copy()
    for side in ("model", "oracle"):
        out[side] = [joined(*v) for v in zip(out[side], out[f"{side} CI low"], out[f"{side} CI high"])]
        out = out.drop(columns=[f"{side} CI low", f"{side} CI high"])
    return out


def kd_table(comparisons: Sequence[Comparison]) -> pd.DataFrame:
    """Fig 2f on planted truth: per experiment with a Kd check and predictor (model, oracle), the regression of
    ln Kd on global importance: ``n``, ``R2``, ``p``, ``slope`` (negative: higher importance, tighter binding)."""
    rows = [{"experiment": c.experiment, "predictor": name, "n": len(reg.patterns), "R2": reg.r2, "p": reg.p,
             "slope": reg.slope} for c in comparisons if c.kd for name, reg in c.kd.items()]
    return pd.DataFrame(rows, columns=["experiment", "predictor", "n", "R2", "p", "slope"])


def fig_kd(comparisons: Sequence[Comparison]):
    """ln Kd (Auweter et al. 2006) against the global importance of each RBFOX1 heptamer, model and oracle, one
    panel per experiment with a Kd check (Fig 2f on planted truth); ``None`` when none has one."""
    from ..plotting import panels

    with_kd = [c for c in comparisons if c.kd]
    if not with_kd:
        return None
    fig, axes = panels(len(with_kd), height=3.2)
    for ax, c in zip(axes, with_kd):
        for (name, reg), colour in zip(c.kd.items(), ("C0", "C1")):
            ax.scatter(reg.global_importance, reg.ln_kd, s=18, color=colour,
                       label=f"{name} (R\u00b2 {reg.r2:.2f}, p {reg.p:.2g})")
        ax.set_xlabel("global importance")
        ax.set_ylabel("ln Kd (nM)")
        ax.set_title(c.experiment)
        ax.legend(frameon=False, fontsize="small", loc="best")
    fig.tight_layout()
    return fig


def fig_kmer_panel(comparisons: Sequence[Comparison]):
    """Global importance of each panel k-mer, oracle (x) against model (y), one panel per experiment."""
    from ..plotting import panels

    fig, axes = panels(len(comparisons), height=3.2)
    for ax, c in zip(axes, comparisons):
        both = c.model_panel.set_index("kmer")["mean"].to_frame("model").join(
            c.oracle.scan.set_index("kmer")["mean"].rename("oracle"))
        ax.scatter(both["oracle"], both["model"], s=14, alpha=0.8)
        rho = c.kmer_spearman
        ax.set_title(f"{c.experiment}" + ("" if rho is None else f"\n(Spearman {rho:.2f})"))
        ax.set_xlabel("global importance, oracle")
        ax.set_ylabel("global importance, model" if ax.get_subplotspec().is_first_col() else "")
    fig.tight_layout()
    return fig
