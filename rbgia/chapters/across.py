"""Chapter 08 (GIA across experiments, Fig 2g, 4b, Supp. Table 1): tables over the battery records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .battery import HEADLINES, arrangement_label, pair_label
from .records import as_record, make_record
from .report import _f, verdict_counts


def supplementary_table1(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The paper's Supplementary Table 1: GIA alignment motif vs RNAcompete motif, per experiment with one."""
    rows = []
    for exp, rec in records.items():
        r = as_record(rec)
        a = r.alignment
        if not a.n_references:
            continue
        sim = a.similarity
        rows.append({"experiment": exp, "RNAcompete motif": f"{a.reference} {a.reference_name}",
                     "RNAcompete consensus": a.reference_consensus, "top k-mer": r.scan.top_kmer,
                     "GIA motif": a.consensus, "similarity r": sim.r if sim else None,
                     "overlap": sim.overlap if sim else None, "motifs compared": a.n_references})
    return pd.DataFrame(rows)


def scan_table(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per experiment: whether the top k-mer stands out (the motif verdict), its robust z, the model's test r, the
    top k-mer's importance and its model-response q-value, k-mers at q <= 0.05 (the scans' cost:
    :func:`scan_cost_table`)."""
    rows = []
    for exp, rec in records.items():
        r = as_record(rec)
        t, so = r.top_kmers[0], r.scan.standout
        rows.append({"experiment": exp, "top k-mer": t.kmer, "motif": so.verdict, "robust z": so.z,
                     "stands-out p": so.pvalue, "test r": r.test_pearson, "global importance": t.mean,
                     "response q": t.get("qvalue"), "responses at q <= 0.05": r.scan.n_significant_q05})
    return pd.DataFrame(rows)


def scan_cost_table(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per experiment: the model evaluations of its adaptive and exhaustive scans (None when not run)."""
    rows = []
    for exp, rec in records.items():
        ev = as_record(rec).scan.evaluations
        rows.append({"experiment": exp, "evaluations (adaptive)": ev.get("adaptive"),
                     "evaluations (exhaustive)": ev.get("exhaustive")})
    return pd.DataFrame(rows)


def multiplicity_table(records: Mapping[str, Mapping[str, Any]], which: str = "optimal") -> pd.DataFrame:
    """Per experiment: the verdict, three copies against the copies alone (with CI), the paper's n-to-1 ratio
    (with CI) and R^2 of its 1..n fit (Fig 2g)."""
    rows = []
    for exp, rec in records.items():
        m = as_record(rec).multiplicity[which]
        rows.append({"experiment": exp, "k-mer": m.motif, "verdict": m.verdict, "vs copies alone": m.vs_additive.mean,
                     "CI low": m.vs_additive.ci_low, "CI high": m.vs_additive.ci_high, "ratio n/1": m.ratio.mean,
                     "ratio CI low": m.ratio.ci_low, "ratio CI high": m.ratio.ci_high, "R2 (1..n fit)": m.r2})
    return pd.DataFrame(rows)


NOT_PLACED = "not placed"  # a spacing arrangement whose two copies overlap and disagree where they do


def spacing_table(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per experiment and pair (1-based starts): the verdict, two copies over the two alone with CI (Fig 2d).

    Every arrangement asked for is a row: one whose two copies overlap and disagree at the overlap
    cannot be embedded (``spacing(..., on_conflict="skip")``) and is listed as :data:`NOT_PLACED`.
    """
    rows = []
    for exp, r in ((e, as_record(rec)) for e, rec in records.items()):
        rows += [{"experiment": exp, "k-mer": r.motif, "pair": pair_label(p), "verdict": p.verdict,
                  "vs copies alone": p.vs_additive.mean, "CI low": p.vs_additive.ci_low,
                  "CI high": p.vs_additive.ci_high} for p in r.spacing.pairs if p.vs_additive]
        rows += [{"experiment": exp, "k-mer": r.motif, "pair": arrangement_label(a, b, b - a - len(r.motif)),
                  "verdict": NOT_PLACED, **dict.fromkeys(("vs copies alone", "CI low", "CI high"), float("nan"))}
                 for a, b in (r.spacing.skipped or [])]
    return pd.DataFrame(rows)


def spacing_summary(spacing: pd.DataFrame) -> str:
    """The verdicts of the placed arrangements, and which were not placed and why."""
    if not len(spacing):
        return "no pairs"
    left_out = spacing[spacing["verdict"] == NOT_PLACED]
    text = verdict_counts(spacing[spacing["verdict"] != NOT_PLACED])
    if len(left_out):
        where = "; ".join(f"{p} in {', '.join(g['experiment'])}" for p, g in left_out.groupby("pair", sort=False))
        text += (f"; {len(left_out)} of the {len(spacing)} arrangements not placed, their two copies overlapping "
                 f"with different letters ({where})")
    return text


def sensitivity_table(records: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per experiment and headline verdict: the verdict on each background kind, and whether they all agree."""
    rows = []
    for exp, rec in records.items():
        per = as_record(rec).sensitivity or {}
        kinds = list(per)
        for verdict in HEADLINES:
            said = {kind: per[kind].get(verdict) for kind in kinds}
            rows.append({"experiment": exp, "verdict": verdict, **said, "agree": len(set(said.values())) == 1})
    return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class AcrossChapter:
    """Chapter 08's record: the tables over the battery records."""

    experiments: tuple[str, ...]
    supplementary_table1: pd.DataFrame
    multiplicity: pd.DataFrame
    spacing: pd.DataFrame
    scans: pd.DataFrame
    sensitivity: pd.DataFrame

    def to_record(self) -> dict[str, Any]:
        def rows(t: pd.DataFrame) -> list[dict[str, Any]]:
            t = t.astype(object)
            return t.where(t.notna(), None).to_dict("records")

        return make_record("across", experiments=list(self.experiments), supplementary_table1=rows(
            self.supplementary_table1), multiplicity=rows(self.multiplicity), spacing=rows(self.spacing),
            scans=rows(self.scans), sensitivity=rows(self.sensitivity))


def across_findings(mult: pd.DataFrame, spacing: pd.DataFrame, supp: pd.DataFrame,
                    scans: pd.DataFrame | None = None, sensitivity: pd.DataFrame | None = None) -> str:
    """The across-experiment chapter's closing sentences."""
    r = supp["similarity r"].astype(float) if len(supp) else pd.Series(dtype=float)
    lines = []
    if scans is not None and len(scans):
        lines.append(f"- The top 6-mer stands out from the other k-mers' importances (motif found) in "
                     f"{int((scans['motif'] == 'motif found').sum())} of {len(scans)} experiments.")
    lines += [
        f"- Multiplicity of the top 6-mer against its copies alone: {verdict_counts(mult)}; median of three copies "
        f"over the copies alone {_f(float(mult['vs copies alone'].median()), '.3g')}; the paper's median ratio of 3 "
        f"copies to 1: {_f(float(mult['ratio n/1'].median()), '.2f')}.",
        f"- Spacing (two copies over the two alone): {spacing_summary(spacing)}.",
        f"- GIA motif vs RNAcompete motif over {len(supp)} experiments: median r {_f(float(r.median()), '.2f')}"
        f" (range {_f(float(r.min()), '.2f')} to {_f(float(r.max()), '.2f')})." if len(supp) else
        "- No experiment has an RNAcompete motif to compare with."]
    lines += _outliers(mult, supp, scans)
    if sensitivity is not None and len(sensitivity):
        kinds = [c for c in sensitivity.columns if c not in ("experiment", "verdict", "agree")]
        lines.append(f"- The headline verdicts agree across the {len(kinds)} backgrounds ({', '.join(kinds)}) in "
                     f"{int(sensitivity['agree'].sum())} of {len(sensitivity)} cases.")
    return "\n".join(lines)


def _outliers(mult: pd.DataFrame, supp: pd.DataFrame, scans: pd.DataFrame | None) -> list[str]:
    """A sentence on the experiment least like its RNAcompete motif and on the poorest 1..n line, each with
    what may explain it (the model's test r, whether its top k-mer stands out), for a reader to weigh."""
    context = scans.set_index("experiment") if scans is not None and len(scans) else None

    def about(exp: str) -> str:
        if context is None or exp not in context.index:
            return ""
        row = context.loc[exp]
        return f"; its model's test r {_f(float(row['test r']), '.2f')}, its top 6-mer: {row['motif']}"

    lines = []
    if len(supp) > 1:
        low = supp.loc[supp["similarity r"].astype(float).idxmin()]
        exp, r = str(low["experiment"]), _f(float(low["similarity r"]), ".2f")
        lines.append(f"- Least like its RNAcompete motif: {exp} (r {r}{about(exp)}). A weak model or a top k-mer "
                     "that does not stand out makes the GIA motif a poor estimate; a good model with a clear motif "
                     "unlike RNAcompete's points to what the model learned instead (a flank, a shifted or shorter "
                     "site).")
    if len(mult) > 1 and mult["R2 (1..n fit)"].notna().any():
        low = mult.loc[mult["R2 (1..n fit)"].astype(float).idxmin()]
        exp, r2 = str(low["experiment"]), _f(float(low["R2 (1..n fit)"]), ".3g")
        lines.append(f"- Poorest line through 1-3 copies: {exp} (R\u00b2 {r2}, verdict {low['verdict']}{about(exp)}). "
                     "The paper's line decides nothing here; the verdict against the copies alone is the test.")
    return lines
