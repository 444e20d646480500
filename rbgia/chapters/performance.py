"""The Performance chapter's tables: ResidualBind and the baselines across real experiments, beside the
published numbers, paired comparisons of configurations with a Wilcoxon signed-rank test, and the goals.

Everything reads the training records that the ``02_residualbind`` jobs write
(``results_dir/<experiment>/02_residualbind.<config_tag>.json``, see :func:`rbgia.chapters.training.train_and_record`)
and the reference tables shipped under ``data/reference/``; nothing here trains a model::

    long = benchmark.load(results_dir, [data_2009, data_2013])      # one row per experiment x config x method
    benchmark.compare_2009(long, reference_dir)                     # per RBP beside cDeepbind, means with n
    benchmark.paired(long, "inputs", "seq", ["pu", "phime"])        # per-experiment differences + Wilcoxon
    benchmark.goals(long, reference_dir)                            # measured vs target, gap, budget
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import TrainConfig
from ..errors import DataError
from ..stats import wilcoxon_paired
from ..train import PLATEAU_GAIN, PLATEAU_WINDOW
from .records import make_record
from .results import CONFIG_KEYS, collect
from .training import BASELINE_LABELS, TRAIN_NOTEBOOK, mismatches, plateau_word

PUBLISHED_2009 = "published_pearson_2009.tsv"
PUBLISHED_2013 = "published_pearson_per_experiment.tsv"
REPORTED = "reported_results.csv"
PROTEINS_2013 = {"RNCMPT00001": "A1CF", "RNCMPT00002": "ANKHD1"}  # the shipped 2013 sample
# Published per-experiment columns of PUBLISHED_2013 -> the method names the paper uses.
METHODS_2013 = {"ThermoNet": "ThermoNet", "DLPRB_CNN": "DLPRB", "cDeepbind_CNN": "cDeepbind", "RCK": "RCK"}
INPUT_LABELS = {"seq": "sequence", "pu": "+PU", "phime": "+PHIME"}
# The smallest number of pairs whose two-sided exact Wilcoxon signed-rank p can fall below 0.05 (2 / 2^6 = 0.031).
MIN_WILCOXON_N = 6
_BUDGET = ["epochs", "epochs_trained_for", "epochs_run", "best_epoch", "patience", "stopped_early", "protocol",
           "plateaued", "plateau", "n_train"]


# --------------------------------------------------------------------------- records


def load(results_dir: str | os.PathLike, data_dirs: Sequence[str | os.PathLike],
         experiments: Sequence[str] | None = None) -> pd.DataFrame:
    """Set-B Pearson r of every training record made from ``data_dirs``, one row per experiment,
    configuration and method (ResidualBind, k-mer ridge, shallow CNN).

    Columns: those of :func:`rbgia.chapters.performance.benchmark_table` plus ``dataset`` (the data folder's name), the
    budget of the ResidualBind run (``epochs_run``, ``best_epoch``, ``patience``, ``stopped_early``, ``n_train``)
    and ``budget``: the epochs the model was trained for (``epochs_trained_for``, else the epoch cap).

    Raises
    ------
    DataError
        When no record comes from these data folders (with the job to run).
    """
    records = collect(results_dir, TRAIN_NOTEBOOK)
    folders = {str(Path(d).resolve()): Path(d).name for d in data_dirs}
    if not records.empty:
        records = records[records["data_dir"].isin(list(folders))]
        if experiments is not None:
            records = records[records["experiment"].isin(list(experiments))]
    if records.empty:
        raise DataError(f"no {TRAIN_NOTEBOOK} records under {results_dir} for {sorted(folders.values())}; "
                        f"run the book's training jobs first (make book, or python -m rbgia.book run)")
    long = benchmark_table(records)
    keys = ["experiment", *TrainConfig.field_names()]
    budget = records[keys + [c for c in _BUDGET if c in records.columns and c != "epochs"] + ["data_dir"]]
    long = long.merge(budget, on=keys, how="left")
    long["dataset"] = long.pop("data_dir").map(folders)
    # The epochs a model was trained for: more than asked when a better cached model was reused.
    trained = long["epochs_trained_for"] if "epochs_trained_for" in long else pd.Series(np.nan, index=long.index)
    long["budget"] = trained.fillna(long["epochs"]).astype(float)
    return long


def select(long: pd.DataFrame, method: str = "ResidualBind", **config: Any) -> pd.DataFrame:
    """The rows of one method (``None``: every method) at the configuration fields given (others free)."""
    keep = np.ones(len(long), bool) if method is None else (long["method"] == method).to_numpy(copy=True)
    for key, value in config.items():
        keep &= (long[key] == value).to_numpy()
    return long[keep]


def _wide(long: pd.DataFrame, column: str, values: Sequence[str] | None = None) -> pd.DataFrame:
    wide = long.pivot_table(index="experiment", columns=column, values="pearson", aggfunc="mean")
    if values is not None:
        wide = wide.reindex(columns=[v for v in values if v in wide.columns])
    wide.columns.name = None
    return wide


# --------------------------------------------------------------------------- reference numbers


def reported(reference_dir: str | os.PathLike, dataset: str | None = None) -> pd.DataFrame:
    """The paper's numbers as ``reported_results.csv`` gives them, with their ``source`` (paper text or
    public notebook) and ``figure``; ``dataset=None``: every dataset (2013, 2009 means, VTS1)."""
    return read_reported(Path(reference_dir) / REPORTED, dataset=dataset)


def _reported_value(rep: pd.DataFrame, dataset: str, inputs: str) -> tuple[float, str]:
    row = rep[(rep["dataset"] == dataset) & (rep["method"] == "ResidualBind") & (rep["inputs"] == inputs)
              & (rep["normalization"] == "log")]
    if row.empty:
        raise DataError(f"{REPORTED} has no ResidualBind log {inputs} row for {dataset!r}; restore data/reference")
    source = str(row["source"].iloc[0])
    return float(row["mean"].iloc[0]), "paper text" if source == "paper" else source


def published_2009(reference_dir: str | os.PathLike) -> pd.DataFrame:
    """cDeepbind's published 2009 set-B Pearson r per RBP (``published_pearson_2009.tsv``), one column per model."""
    path = Path(reference_dir) / PUBLISHED_2009
    if not path.is_file():
        raise DataError(f"{path} not found; pass reference_dir pointing at data/reference")
    table = pd.read_csv(path, sep="\t", comment="#").set_index("rbp")
    table = table.dropna(axis=1, how="all")
    table.index.name = "experiment"
    return table.add_prefix("cDeepbind ")


def published_2013(reference_dir: str | os.PathLike) -> pd.DataFrame:
    """Published 2013 set-B Pearson r per experiment (ThermoNet's Table S2): ThermoNet, DLPRB, cDeepbind, RCK."""
    path = Path(reference_dir) / PUBLISHED_2013
    if not path.is_file():
        raise DataError(f"{path} not found; pass reference_dir pointing at data/reference")
    table = pd.read_csv(path, sep="\t", comment="#").set_index("experiment")
    return table[list(METHODS_2013)].rename(columns=METHODS_2013)


# --------------------------------------------------------------------------- comparison tables


def _mean_row(frame: pd.DataFrame, label: str) -> tuple[pd.DataFrame, dict[str, int]]:
    row = {c: frame[c].mean() for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
    n = {c: int(frame[c].notna().sum()) for c in row}
    return pd.DataFrame([row], index=[label]), n


def compare_2009(long: pd.DataFrame, reference_dir: str | os.PathLike, dataset: str = "rnacompete2009",
                 normalization: str = "log") -> pd.DataFrame:
    """ResidualBind sequence and +PU per 2009 RBP beside cDeepbind's published numbers, then the mean over the
    RBPs each column has (``n`` in the row label) and the paper's 9-RBP means (source in the label).

    Returns
    -------
    pandas.DataFrame
        Index: the RBPs, ``mean over the RBPs here`` with ``n (RBPs in that mean)`` below it (per column),
        ``paper, 9 RBPs (<source>)``, cDeepbind's mean over all its published RBPs with its ``n``; columns
        ``ResidualBind sequence``, ``ResidualBind +PU`` and the published cDeepbind models.
    """
    ours = _wide(select(long, dataset=dataset, normalization=normalization), "inputs", ["seq", "pu"])
    ours = ours.rename(columns={k: f"ResidualBind {v}" for k, v in INPUT_LABELS.items()})
    pub = published_2009(reference_dir)
    table = ours.join(pub, how="left")
    mean, n = _mean_row(table, "mean over the RBPs here")
    counts = pd.DataFrame([n], index=["n (RBPs in that mean)"])
    rep = reported(reference_dir, dataset=None)
    paper = {f"ResidualBind {INPUT_LABELS[k]}": _reported_value(rep, "rnacompete2009 (9 RBPs)", k)
             for k in ("seq", "pu")}
    sources = sorted({s for _, s in paper.values()})
    paper_row = pd.DataFrame([{c: v for c, (v, _) in paper.items()}], index=[f"paper, 9 RBPs ({', '.join(sources)})"])
    pub_mean = pub.mean().to_frame().T
    pub_mean.index = [f"cDeepbind, all {len(pub)} published RBPs"]
    pub_n = pd.DataFrame([pub.notna().sum().to_dict()], index=["n (RBPs cDeepbind published)"])
    out = pd.concat([table, mean, counts, paper_row, pub_mean, pub_n])
    out.index.name = "RBP"
    return out


def compare_2013(long: pd.DataFrame, reference_dir: str | os.PathLike, dataset: str = "rnacompete2013_sample",
                 normalization: str = "log", inputs: str = "seq") -> pd.DataFrame:
    """The 2013 experiments: ResidualBind and the baselines trained here (on the sample: a quarter of the probes)
    beside ThermoNet, DLPRB, cDeepbind and RCK as published on the full data; ``training probes`` says how many."""
    here = select(long, None, dataset=dataset, normalization=normalization, inputs=inputs)
    ours = _wide(here, "method", ["ResidualBind", *BASELINE_LABELS.values()]).add_suffix(" (here)")
    ours["training probes (here)"] = here[here["method"] == "ResidualBind"].set_index("experiment")["n_train"]
    table = ours.join(published_2013(reference_dir).add_suffix(" (full data)"), how="left")
    table.index = pd.Index([f"{e} ({PROTEINS_2013[e]})" if e in PROTEINS_2013 else e for e in table.index],
                           name="experiment")
    return table


# --------------------------------------------------------------------------- paired tests


def wilcoxon(a: Sequence[float], b: Sequence[float]) -> dict[str, float | int | None]:
    """Wilcoxon signed-rank test of paired ``a - b`` (:func:`rbgia.stats.wilcoxon_paired`, two-sided):
    ``n``, ``median_difference``, ``statistic``, ``pvalue``.

    Pairs with a NaN are dropped; with fewer than two pairs or all differences zero there is no test
    (``statistic`` and ``pvalue`` are ``None``: a missing test is never a p-value).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    median = float(np.median(d)) if len(d) else None
    out: dict[str, float | int | None] = {"n": int(len(d)), "median_difference": median,
                                          "statistic": None, "pvalue": None}
    if len(d) < 2 or not np.any(d != 0):
        return out
    res = wilcoxon_paired(a[ok], b[ok])
    out.update(statistic=float(res.statistic), pvalue=float(res.pvalue))
    return out


def paired(long: pd.DataFrame, column: str, reference: str, others: Sequence[str],
           method: str = "ResidualBind", **config: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-experiment comparison of ``column`` values (e.g. ``inputs``: ``seq`` against ``pu``, ``phime``).

    Only pairs trained with the same budget (epoch cap, ``budget``) are compared: an experiment whose reference
    model had more epochs than the other is left out of that comparison and counted in ``unequal budget``.

    Returns
    -------
    (per_experiment, tests)
        ``per_experiment``: Pearson r per value and ``<reference> - <other>`` per experiment (empty where the
        budgets differ; the sign of the book's paired-difference plots). ``tests``: one row per other value:
        ``n`` (experiments with both at equal budget), mean and median difference, ``reference higher`` (in how
        many experiments), the Wilcoxon signed-rank ``statistic`` and ``pvalue``
        (two-sided), and ``unequal budget`` (experiments left out).
    """
    sub = select(long, method, **config)
    wide = _wide(sub, column, [reference, *others])
    budgets = sub.pivot_table(index="experiment", columns=column, values="budget", aggfunc="max")
    rows = []
    for other in [o for o in others if o in wide.columns and reference in wide.columns]:
        both = wide[[reference, other]].notna().all(axis=1)
        same = budgets[reference].eq(budgets[other]).reindex(wide.index, fill_value=False)
        diff = (wide[reference] - wide[other]).where(same)
        wide[f"{reference} - {other}"] = diff
        test = wilcoxon(wide[reference].where(same), wide[other].where(same))
        testable = int(test["n"]) >= MIN_WILCOXON_N  # fewer pairs cannot reach p < 0.05: no test is reported
        rows.append({"comparison": f"{reference} - {other}", "n": test["n"], "mean difference": float(diff.mean()),
                     "median difference": test["median_difference"], "reference higher": int((diff > 0).sum()),
                     "statistic": test["statistic"] if testable else None,
                     "pvalue": test["pvalue"] if testable else None,
                     "unequal budget": int((both & ~same).sum())})
    columns = ["comparison", "n", "mean difference", "median difference", "reference higher", "statistic", "pvalue",
               "unequal budget"]
    return wide, pd.DataFrame(rows, columns=columns)


def verdict(tests: pd.DataFrame, alpha: float = 0.05) -> str:
    """One sentence per row of :func:`paired`'s tests: the direction and whether the test supports it."""
    parts = []
    for r in tests.to_dict("records"):
        p, med = r["pvalue"], r["median difference"]
        first = r["comparison"].split(" - ")[0]
        if int(r["n"]) < MIN_WILCOXON_N:
            shown = (f"median {med:+.3f}, {first} higher in {r['reference higher']} of {r['n']}; "
                     if med is not None and np.isfinite(med) else "")
            parts.append(f"{r['comparison']}: {shown}no test: n = {r['n']} is too few for a Wilcoxon signed-rank "
                         f"test to reach p < 0.05 (it takes n >= {MIN_WILCOXON_N})")
            continue
        if p is None or not np.isfinite(p):
            parts.append(f"{r['comparison']}: no test (n = {r['n']})")
            continue
        sign = f"{first} higher" if med > 0 else f"{first} lower" if med < 0 else "no difference"
        word = "significant" if p < alpha else "not significant"
        parts.append(f"{r['comparison']}: median {med:+.3f} ({sign}; {first} higher in {r['reference higher']} "
                     f"of {r['n']}), "
                     f"Wilcoxon p = {p:.2g}, {word} at {alpha}")
    return "; ".join(parts)


def pairs_label(tests: pd.DataFrame) -> str:
    """How many experiments each of :func:`paired`'s comparisons holds, for a caption ("log - clip: n = 2")."""
    rows = tests.to_dict("records")
    return "; ".join(f"{r['comparison']}: n = {r['n']}" for r in rows) if rows else "no pairs"


# --------------------------------------------------------------------------- goals and budget


def budget(long: pd.DataFrame, normalization: str | None = None) -> pd.DataFrame:
    """The training budget of every ResidualBind record: epochs allowed and run, best epoch, patience,
    whether early stopping was reached (else training stopped at the epoch cap) and whether the validation r had
    plateaued (:func:`rbgia.train.plateau`, with its reason)."""
    rb = select(long, normalization=normalization) if normalization else select(long)
    out = pd.DataFrame({
        "experiment": rb["experiment"], "transform": rb["normalization"], "inputs": rb["inputs"],
        "protocol": rb.get("protocol", pd.Series("not recorded", index=rb.index)).fillna("not recorded"),
        "epochs (cap)": rb["budget"], "epochs run": rb.get("epochs_run"), "best epoch": rb.get("best_epoch"),
        "early stopping": rb.get("stopped_early", pd.Series(False, index=rb.index)).map(
            lambda v: "reached" if v is True or v == 1 else "no (cap)"),
        "plateaued": [plateau_word(p, why) for p, why in zip(rb.get("plateaued", [None] * len(rb)),
                                                              rb.get("plateau", [None] * len(rb)))],
        "test Pearson r": rb["pearson"],
    })
    return out.sort_values(["experiment", "transform", "inputs"]).reset_index(drop=True)


def goals(long: pd.DataFrame, reference_dir: str | os.PathLike, normalization: str = "log") -> pd.DataFrame:
    """The Performance goals, measured against their targets read from the reference files.

    VTS1 sequence and +PU against the paper's VTS1 numbers, A1CF and ANKHD1 against ThermoNet on the full data,
    the 2009 mean against the paper's 9-RBP means (ours over the RBPs we have: ``n`` says how many). Columns:
    ``goal``, ``target``, ``target source``, ``measured``, ``gap`` (measured - target), ``reached``, ``n``,
    ``protocol`` (:data:`rbgia.train.PROTOCOLS`), ``epochs`` (cap), ``epochs run``, ``best epoch``,
    ``early stopping reached``, ``plateaued`` (:func:`rbgia.train.plateau`: early stopping, or a gain of the
    best validation r under 0.003 over the last 3 epochs).
    """
    rep = reported(reference_dir, dataset=None)
    thermo = published_2013(reference_dir)["ThermoNet"]
    rb = select(long, normalization=normalization)
    rows = []

    def add(goal: str, target: float, source: str, sub: pd.DataFrame) -> None:
        measured = float(sub["pearson"].mean()) if len(sub) else float("nan")
        run = sub["epochs_run"] if "epochs_run" in sub else pd.Series(dtype=float)
        rows.append({
            "goal": goal, "target": target, "target source": source, "measured": measured,
            "gap": measured - target, "reached": bool(measured >= target), "n": int(len(sub)),
            "protocol": _protocols(sub.get("protocol")), "epochs": _span(sub.get("budget")), "epochs run": _span(run),
            "best epoch": _span(sub.get("best_epoch")),
            "early stopping reached": _share(sub.get("stopped_early")),
            "plateaued": _share(sub.get("plateaued"), no="no"),
        })

    for inputs in ("seq", "pu"):
        target, source = _reported_value(rep, "rnacompete2009:VTS1", inputs)
        add(f"VTS1 {INPUT_LABELS[inputs]}", target, f"Koo et al. 2020 ({source})",
            rb[(rb["experiment"] == "VTS1") & (rb["inputs"] == inputs)])
    for exp, protein in PROTEINS_2013.items():
        add(f"{exp} ({protein}) sequence", float(thermo[exp]), "ThermoNet, full data (Su et al. 2019, Table S2)",
            rb[(rb["experiment"] == exp) & (rb["inputs"] == "seq")])
    for inputs in ("seq", "pu"):
        target, source = _reported_value(rep, "rnacompete2009 (9 RBPs)", inputs)
        sub = rb[(rb["dataset"] == "rnacompete2009") & (rb["inputs"] == inputs)]
        add(f"2009 mean {INPUT_LABELS[inputs]} (over the {len(sub)} RBPs here; the paper's over 9)", target,
            f"Koo et al. 2020 ({source})", sub)
    return pd.DataFrame(rows)


def protocol_legend(long: pd.DataFrame) -> str:
    """What each training protocol named in ``long`` is (:func:`rbgia.train.describe_protocol`), for a caption:
    ``"protocols: book (batch 100, ...)"``; ``""`` when none is recorded."""
    from ..train import PROTOCOLS, describe_protocol
    from .training import MULTI_TASK

    names = sorted({str(v) for v in long.get("protocol", pd.Series(dtype=object)).dropna()})
    words = [describe_protocol(n) if n.removesuffix(f" {MULTI_TASK}") in PROTOCOLS
             else f"{n} (settings of no named protocol)" for n in names]
    return f"protocols: {'; '.join(words)}" if words else ""


def _protocols(values: Any) -> str:
    """The training protocols of a goal's models (:data:`rbgia.train.PROTOCOLS` names), e.g. ``"book"``."""
    if values is None:
        return "not recorded"
    names = sorted({str(v) for v in pd.Series(values).dropna()})
    return ", ".join(names) if names else "not recorded"


def _span(values: Any) -> str:
    if values is None:
        return "–"
    v = pd.Series(values).dropna()
    if v.empty:
        return "–"
    lo, hi = int(v.min()), int(v.max())
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _share(values: Any, no: str = "no (epoch cap)") -> str:
    if values is None:
        return "–"
    v = pd.Series(values).dropna().astype(bool)
    if v.empty:
        return "–"
    if len(v) == 1:
        return "yes" if v.iloc[0] else no
    return f"{int(v.sum())} of {len(v)}"


# --------------------------------------------------------------------------- models for scatter plots


def scatter_frames(results_dir: str | os.PathLike, data_dir: str | os.PathLike, experiment: str,
                   configs: Sequence[TrainConfig | Mapping[str, Any] | str], motif: str | None = None,
                   ) -> dict[str, pd.DataFrame]:
    """Predicted vs measured set-B scores of trained models (for paper Fig 1b-c), by configuration tag.

    Loads each model the training job saved (``results_dir/<experiment>/models/<tag>.keras``) and the data it
    was trained on (the parameters in its metadata); never trains. ``motif``: colour by the mismatches of each
    probe's best match to it.

    Raises
    ------
    DataError
        When a model is missing (with the job to run).
    """
    from ..data import load_rnacompete
    from ..evaluate import scatter_data
    from ..model_cache import load_model

    out: dict[str, pd.DataFrame] = {}
    for config in configs:
        cfg = TrainConfig.coerce(config)
        path = Path(results_dir) / experiment / "models" / f"{cfg.tag}.keras"
        if not path.is_file():
            raise DataError(f"no trained model {path}; run the {TRAIN_NOTEBOOK} job for {experiment} {cfg.tag} first")
        model, meta = load_model(path)
        p = meta.get("params", {})
        data = load_rnacompete(data_dir, experiment, normalization=cfg.normalization, inputs=cfg.inputs,
                               valid_frac=p.get("valid_frac", 0.1), seed=p.get("data_seed", 0),
                               stats=p.get("stats", "train"), clip_rule=p.get("clip_rule", "quantile"),
                               max_probes=p.get("max_probes"))
        out[cfg.tag] = scatter_data(model, data.test, color=mismatches(data.test.seqs, motif))
    return out


def plot_published(table: pd.DataFrame, columns: Sequence[str], ax: Any = None, title: str | None = None) -> Any:
    """Grouped bars of set-B Pearson r per experiment for ``columns`` of a :func:`compare_2009` /
    :func:`compare_2013` table (summary rows excluded)."""
    import matplotlib.pyplot as plt

    rows = [i for i in table.index if not str(i).startswith(("mean", "n (", "paper", "cDeepbind, all"))]
    data = table.loc[rows, [c for c in columns if c in table.columns]]
    if ax is None:
        from ..plotting import page_width

        _, ax = plt.subplots(figsize=(page_width(), 3.4))  # the legend sits beside the bars
    width = 0.8 / max(1, data.shape[1])
    x = np.arange(len(rows))
    for i, col in enumerate(data.columns):
        ax.bar(x + (i - (data.shape[1] - 1) / 2) * width, data[col].to_numpy(float), width, label=col)
    ax.set_xticks(x, rows, rotation=30, ha="right")
    ax.set_ylabel("set-B Pearson r")
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small", frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))  # off the bars
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- one training run (02_residualbind)


def plot_scatters(frames: Mapping[str, pd.DataFrame], color_label: str | None = None) -> Any:
    """Predicted-vs-measured scatter plots side by side, one per configuration tag of :func:`scatter_frames`."""
    from ..plotting import panels, scatter_pred

    fig, axes = panels(len(frames), height=3.2)
    for ax, (tag, frame) in zip(axes, frames.items()):
        cfg = TrainConfig.from_tag(tag)
        scatter_pred(frame, ax=ax, title=f"{cfg.normalization} transform, {INPUT_LABELS[cfg.inputs]}",
                     xlabel="measured (z-scored)", ylabel="predicted", color_label=color_label, cmap="viridis_r")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- the chapter's findings and record


def findings(long: pd.DataFrame, reference_dir: str | os.PathLike, method_tests: pd.DataFrame,
             norm_tests: pd.DataFrame, kind_tests: pd.DataFrame, alpha: float = 0.05) -> str:
    """The Performance chapter's closing paragraph (Markdown), every statement from a number computed here."""
    g = goals(long, reference_dir)
    reached = g[g["reached"]]["goal"].tolist()
    missed = [f"{r['goal']} by {-r['gap']:.3f} ({r['measured']:.3f} vs {r['target']:.3f})"
              for r in g.to_dict("records") if not r["reached"] and np.isfinite(r["measured"])]
    rb = select(long, normalization="log", inputs="seq")
    lines = [
        f"- **ResidualBind against the baselines** (log, sequence; {rb['experiment'].nunique()} experiments): "
        f"{verdict(method_tests, alpha) or 'no baseline records'}.",
        f"- **Clip against log** (Fig 1d): {verdict(norm_tests, alpha) or 'no clip records'}.",
        f"- **Structure inputs** (Fig 1e-f): {verdict(kind_tests, alpha) or 'no structure records'}.",
        f"- **Goals reached**: {', '.join(reached) if reached else 'none'}. "
        f"**Not reached**: {'; '.join(missed) if missed else 'none'}.",
    ]
    stopped = select(long)["stopped_early"].dropna().astype(bool) if "stopped_early" in long else pd.Series([], bool)
    flat = select(long)["plateaued"].dropna().astype(bool) if "plateaued" in long else pd.Series([], bool)
    lines.append(f"- **Budget**: early stopping was reached by {int(stopped.sum())} of {len(stopped)} models; the "
                 "others stopped at their epoch cap, so their numbers are lower bounds of what longer training gives. "
                 f"The validation r had plateaued (early stopping, or the best validation r gaining under "
                 f"{PLATEAU_GAIN:g} over the last {PLATEAU_WINDOW} epochs) for {int(flat.sum())} of {len(flat)} "
                 "models with the rule recorded; a GIA finding on a model that had not is marked so in its caption.")
    return "\n".join(lines)


def _frame_record(frame: pd.DataFrame) -> list[dict[str, Any]]:
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        out = frame
    else:  # the index (RBP, experiment, summary rows) becomes the column "row"
        out = frame.reset_index().rename(columns={frame.index.name or "index": "row"})
    out = out.astype(object)
    return out.where(out.notna(), None).to_dict("records")


def record(long: pd.DataFrame, t2009: pd.DataFrame, t2013: pd.DataFrame, goal_table: pd.DataFrame,
           method_tests: pd.DataFrame, norm_tests: pd.DataFrame, kind_tests: pd.DataFrame) -> dict[str, Any]:
    """The Performance chapter's record: per-experiment Pearson r by method and configuration, the comparison
    tables, the tests and the goals: a ``benchmark`` record (JSON-ready; missing values are ``None``)."""
    per = {exp: {f"{r['method']} {r['normalization']}-{r['inputs']}": r["pearson"] for r in grp.to_dict("records")}
           for exp, grp in long.groupby("experiment")}
    return make_record(
        "benchmark",
        experiments=sorted(long["experiment"].unique().tolist()),
        n_experiments=int(long["experiment"].nunique()),
        configs=sorted({f"{r['normalization']}-{r['inputs']}-{r['variant']}-s{r['seed']}"
                        for r in long.to_dict("records")}),
        per_experiment=per,
        compare_2009=_frame_record(t2009),
        compare_2013=_frame_record(t2013),
        tests={"baselines": _frame_record(method_tests), "normalization": _frame_record(norm_tests),
               "inputs": _frame_record(kind_tests)},
        goals=_frame_record(goal_table),
        budget=_frame_record(budget(long)),
    )


# --------------------------------------------------------------------------- the data (01_data)






_REPORTED_INPUTS = {"sequence": "seq", "sequence+PU": "pu", "sequence+PHIME": "phime", "": "seq"}


def benchmark_table(records: pd.DataFrame) -> pd.DataFrame:
    """Long table of set-B Pearson r from :func:`collect` of the training notebook.

    One row per experiment, configuration and method: ``method`` is ``ResidualBind``
    or a baseline label (``k-mer ridge``, ``shallow CNN``) for the records that hold
    baselines. Columns: ``experiment``, ``normalization``, ``inputs``, ``variant``,
    ``seed``, ``epochs``, ``method``, ``pearson``, ``spearman``.
    """
    keys = ["experiment", *CONFIG_KEYS]
    cols = [*keys, "epochs", "method", "pearson", "spearman"]
    if records.empty:
        return pd.DataFrame(columns=cols)
    parts = [records.assign(method="ResidualBind", pearson=records["test_pearson"], spearman=records["test_spearman"])]
    for key, label in BASELINE_LABELS.items():
        col = f"baselines.{key}.test_pearson"
        if col in records.columns:
            sub = records[records[col].notna()]
            parts.append(sub.assign(method=label, pearson=sub[col], spearman=sub[f"baselines.{key}.test_spearman"]))
    long = pd.concat(parts, ignore_index=True)
    for c in cols:
        if c not in long.columns:
            long[c] = None
    return long[cols].reset_index(drop=True)


def read_reported(path: str | os.PathLike, dataset: str | None = "rnacompete2013") -> pd.DataFrame:
    """The paper's reported numbers (``reported_results.csv``) for one dataset (``None``: every dataset).

    Returns columns ``method``, ``inputs`` (``seq``/``pu``/``phime``), ``normalization``,
    ``mean``, ``sd`` (Pearson r over experiments, as published), then ``dataset``,
    ``source`` (paper text or public notebook) and ``figure``.

    Raises
    ------
    DataError
        When the file is missing (with where it is expected).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"reported results {path} not found; pass reference_dir pointing at the folder holding it")
    df = pd.read_csv(path, comment="#", dtype={"inputs": str}).fillna({"inputs": ""})
    df = df[((df["dataset"] == dataset) if dataset is not None else True) & (df["metric"] == "pearson")].copy()
    df["inputs"] = df["inputs"].map(lambda v: _REPORTED_INPUTS.get(str(v), str(v)))
    return df[["method", "inputs", "normalization", "mean", "sd", "dataset", "source", "figure"]].reset_index(drop=True)
