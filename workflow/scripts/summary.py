"""Summary of the scale-out: experiments done and test Pearson r per training configuration.

The workflow's last rule runs it on every finished experiment; run it by hand at any
time for the progress of a running (or failed) workflow::

    python workflow/scripts/summary.py --results-dir results
    python workflow/scripts/summary.py --results-dir results --experiments E1 E2 --tags log-seq-paper-s0

It reads the training notebook's records (``<results_dir>/<experiment>/02_residualbind.<tag>.json``)
through :func:`rbgia.chapters.results.collect` and prints one row per configuration:
experiments done (of those expected when ``--experiments`` is given), and mean, sd,
median, min and max of the test Pearson r; ``--out`` and ``--table`` write the summary
and the per-experiment table as TSV (atomically).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from rbgia._io import write_text
from rbgia.chapters.results import collect
from rbgia.config import TrainConfig
from rbgia.errors import RbgiaError

CONFIG_KEYS = TrainConfig.field_names()

class UsageError(Exception):
    """A user error: main() prints it as one `error:` line and exits 2."""


# Where the training notebook keeps the test Pearson r, most specific first.
METRIC_CANDIDATES = ("pearson.test", "test.pearson", "test_pearson", "metrics.test.pearson", "pearson")


def find_metric(df: pd.DataFrame, metric: str | None = None) -> str:
    """The column holding the test Pearson r (``metric`` if given and present)."""
    if metric:
        if metric not in df.columns:
            raise UsageError(f"column {metric!r} not in the records (have {sorted(df.columns)[:20]}); pass --metric")
        return metric
    for name in METRIC_CANDIDATES:
        if name in df.columns:
            return name
    found = [c for c in df.columns if "pearson" in c.lower() and "test" in c.lower()]
    if found:
        return found[0]
    raise UsageError(f"no test Pearson column in the records (have {sorted(df.columns)[:20]}); pass --metric")


def per_experiment(
    results_dir: str | Path,
    notebook: str = "02_residualbind",
    experiments: list[str] | None = None,
    tags: list[str] | None = None,
    metric: str | None = None,
) -> pd.DataFrame:
    """One row per finished (experiment, configuration): the test Pearson r, and any
    other Pearson r the record holds (baselines)."""
    df = collect(results_dir, notebook)
    cols = ["experiment", "config", *CONFIG_KEYS, "pearson"]
    if df.empty or not set(CONFIG_KEYS) <= set(df.columns):
        return pd.DataFrame(columns=cols)
    df = df.copy()
    df["config"] = [TrainConfig.from_dict({**r._asdict(), "seed": int(r.seed)}).tag
                    for r in df[list(CONFIG_KEYS)].itertuples(index=False)]
    if experiments:
        df = df[df["experiment"].isin(experiments)]
    if tags:
        df = df[df["config"].isin(tags)]
    if df.empty:
        return pd.DataFrame(columns=cols)
    name = find_metric(df, metric)
    out = df[["experiment", "config", *CONFIG_KEYS]].copy()
    out["pearson"] = pd.to_numeric(df[name], errors="coerce")
    # Baselines and other splits, when the record has them: every other numeric "pearson" column.
    for col in df.columns:
        if col != name and "pearson" in col.lower() and pd.api.types.is_numeric_dtype(df[col]):
            out[col] = df[col]
    return out.sort_values(["config", "experiment"]).reset_index(drop=True)


def summarize(table: pd.DataFrame, n_expected: int | None = None, tags: list[str] | None = None) -> pd.DataFrame:
    """One row per configuration: experiments done, mean / sd / median / min / max test Pearson r."""
    rows = []
    configs = list(dict.fromkeys([*(tags or []), *table["config"].tolist()]))
    # Baselines fitted beside ResidualBind (baselines.<name>.test_pearson): their mean too.
    baselines = {c: c.split(".")[1] for c in table.columns if re.fullmatch(r"baselines\.\w+\.test_pearson", c)}
    for tag in configs:
        sub = table[table["config"] == tag]
        r = sub["pearson"].astype(float)
        norm, inp, var, seed = tag.split("-")
        rows.append(
            {
                "config": tag,
                "normalization": norm,
                "inputs": inp,
                "variant": var,
                "seed": int(seed.removeprefix("s")),
                "experiments_done": int(len(sub)),
                "experiments_expected": n_expected if n_expected is not None else pd.NA,
                "mean_pearson": r.mean() if len(r) else pd.NA,
                "sd_pearson": r.std(ddof=1) if len(r) > 1 else pd.NA,
                "median_pearson": r.median() if len(r) else pd.NA,
                "min_pearson": r.min() if len(r) else pd.NA,
                "max_pearson": r.max() if len(r) else pd.NA,
                **{f"mean_pearson_{name}": (sub[col].mean() if sub[col].notna().any() else pd.NA)
                   for col, name in baselines.items()},
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--notebook", default="02_residualbind", help="the training notebook's stem")
    parser.add_argument("--experiments", nargs="*", default=None, help="the experiments expected (default: all found)")
    parser.add_argument("--tags", nargs="*", default=None, help="configuration tags expected (default: all found)")
    parser.add_argument("--metric", default=None, help="record column with the test Pearson r (default: auto)")
    parser.add_argument("--out", default=None, help="write the per-configuration summary here (TSV)")
    parser.add_argument("--table", default=None, help="write the per-experiment table here (TSV)")
    args = parser.parse_args(argv)

    try:
        table = per_experiment(args.results_dir, args.notebook, args.experiments, args.tags, args.metric)
    except (UsageError, RbgiaError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    summary = summarize(table, len(args.experiments) if args.experiments else None, args.tags)
    if args.table:
        write_text(args.table, table.to_csv(sep="\t", index=False, float_format="%.4f"))
    if args.out:
        write_text(args.out, summary.to_csv(sep="\t", index=False, float_format="%.4f"))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        shown = summary.to_string(index=False, float_format=lambda v: f"{v:.3f}")
        print(shown if len(summary) else "no finished experiments yet", flush=True)
    if args.experiments:
        for tag in args.tags or sorted(set(table["config"])):
            missing = sorted(set(args.experiments) - set(table.loc[table["config"] == tag, "experiment"]))
            if missing:
                more = f" (+{len(missing) - 10} more)" if len(missing) > 10 else ""
                print(f"{tag}: {len(missing)} not done: {' '.join(missing[:10])}{more}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
