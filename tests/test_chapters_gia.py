"""rbgia.chapters (the real-data GIA chapters): the verdicts come out right on toy predictors whose rule is
known, and the battery's record round-trips through the tables the across-experiment chapters draw."""

from __future__ import annotations

import copy
import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from toy_models import counter as count
from toy_models import hits as _windows
from toy_models import motif_gc_interaction

from rbgia import gia, motifs
from rbgia import records as gia_records
from rbgia.chapters import across, battery, gc, ism, records, report, results, vts1
from rbgia.data import shipped_data_dir
from rbgia.errors import DataError
from rbgia.model_cache import TrainedModel

REFERENCE = shipped_data_dir("reference")
RNG = np.random.default_rng(0)


def _bg(n: int = 80, length: int = 41) -> np.ndarray:
    return np.eye(4, dtype=np.float32)[RNG.integers(0, 4, size=(n, length))]


def test_reference_motifs_follow_the_2009_to_2013_map():
    assert [m.id for m in battery.reference_motifs("RNCMPT00001", REFERENCE)] == ["RNCMPT00001"]
    hur = battery.reference_motifs("HuR", REFERENCE)
    assert len(hur) == 5 and {m.name for m in hur} == {"HuR"}
    assert battery.reference_motifs("VTS1", REFERENCE) == []  # not in the 2013 compendium
    out = battery.compare_with_reference(motifs.kmer_pfm("UUUUUUU"), "HuR", REFERENCE)
    assert out.n_references == 5 and out.reference in {m.id for m in hur} and -1 <= out.r <= 1


def test_multiplicity_verdict_additive_and_sub_additive():
    bg = _bg()
    add = gia.multiplicity(gia.GIA(count("UGCAUG"), bg), "UGCAUG", (3, 10, 17), n_boot=200)
    assert add.verdict == "additive" and add.ratio.mean == pytest.approx(3.0, abs=0.05)
    saturating = lambda x: np.minimum(_windows(x, "UGCAUG").sum(1), 1).astype(float)  # noqa: E731
    sub = gia.multiplicity(gia.GIA(saturating, bg), "UGCAUG", (3, 10, 17), n_boot=200)
    assert sub.verdict == "sub-additive" and sub.ratio.mean == pytest.approx(1.0, abs=0.05)
    assert add.local.shape == (3, len(bg)) and add.r2 > 0.99


def test_spacing_calls_hindrance_only_for_close_pairs():
    def hindered(x):  # two sites less than 7 nt apart count once
        hits = _windows(x, "UGCAUG")
        out = np.zeros(len(x))
        for i, row in enumerate(hits):  # toy oracle, not a model call
            last = -99
            for s in np.flatnonzero(row):
                if s - last >= 7:
                    out[i] += 1
                    last = s
        return out

    df = gia.spacing(gia.GIA(hindered, _bg()), "UGCAUG", [(16, 20), (15, 21), (10, 22)], 17, on_conflict="skip",
                     n_boot=200)
    assert list(df.verdicts) == ["hindrance", "hindrance", "additive"]
    assert df.single.mean == pytest.approx(1.0, abs=0.05)


def test_gc_amplifies_or_adds():
    gc3 = lambda x: _windows(x[:, 35:], "GCGCGC").any(1).astype(float)  # noqa: E731
    motif = count("UGCAUG")
    amp = gia.gc_bias(gia.GIA(motif_gc_interaction(), _bg()), "UGCAUG", 17, n_boot=200)
    assert amp.verdict3 == "amplifies" and amp.verdict5 == "adds"  # GC 5': 0
    assert amp.effect3 == pytest.approx(2.0, abs=0.1) and gc.bias_end(amp) == "3'"
    add = gia.gc_bias(gia.GIA(lambda x: motif(x) + gc3(x), _bg()), "UGCAUG", 17, n_boot=200)
    assert add.verdict3 == "adds"  # GC alone has the effect it adds to the motif
    assert add.gc3.mean == pytest.approx(1.0, abs=0.05)


def test_structure_effect_is_a_difference_in_differences():
    bg = _bg(60)
    position = lambda x: 0.5 * _windows(x[:, 16:22], "GCUGGC").any(1)  # noqa: E731 - a position effect only
    flat = gia.hairpin_context(gia.GIA(position, bg), "GCUGGC", 16, 8, n_boot=200)
    assert flat.verdict in ("no structure effect", "undetermined")
    assert abs(flat.structure_effect.mean) < 0.05

    def loop_only(x):  # the motif counts when positions 5-15 pair with 22-32 (reverse complement)
        x4 = np.asarray(x)[..., :4]
        comp = x4[:, 22:33][:, ::-1][..., ::-1]  # ACGU -> UGCA
        paired = (x4[:, 5:16] * comp).sum((1, 2)) >= 10
        return (_windows(x4[:, 16:22], "GCUGGC").any(1) & paired).astype(float)

    hp = gia.hairpin_context(gia.GIA(loop_only, bg), "GCUGGC", 16, 8, n_boot=200)
    assert hp.structure_effect.ci_low > 0.5
    assert hp.verdict == ("prefers loop" if hp.n_folded >= 30 else "undetermined")
    assert hp.n_designed == 60 and 0 <= hp.n_folded <= 60
    table = vts1.structure_table({"toy": hp, "flat": flat.to_record()})  # result objects or their records
    assert list(table.columns[1:3]) == ["verdict", "structure effect"] and table["verdict"].tolist() == [
        hp.verdict, flat.verdict]
    embeddings = vts1.embedding_table({"toy": hp})
    assert embeddings["embedding"].tolist() == ["in loop", "broken loop", "in stem", "stem unpaired", "partner only"]
    assert table["structure effect"].tolist() == pytest.approx([hp.structure_effect.mean, flat.structure_effect.mean])


def _split(x: np.ndarray, y: np.ndarray) -> SimpleNamespace:
    from rbgia.sequence import decode

    return SimpleNamespace(x=x, y=y[:, None], seqs=np.array(decode(x)))


def test_ism_gc3_finds_a_3_prime_bias():
    x = _bg(30)
    f = lambda z: z[:, 34:, 1:3].sum((1, 2)) + 0.1 * z[:, :, 0].sum(1)  # noqa: E731 - G/C in the 3' end
    split = _split(x, f(x))
    rec = gc.ism_gc3(f, split, n_top=10)
    assert rec.verdict == "3' bias" and rec.gc3_l2 > rec.gc5_l2 and rec.n_probes == 10
    flat = gc.ism_gc3(lambda z: z[:, :, 0].sum(1), split, n_top=10)
    assert flat.verdict == "no 3' bias"


def test_probe_choice_and_ism_table():
    x = _bg(200)
    f = count("GCUGG")
    split = _split(x, f(x) + RNG.normal(0, 0.1, len(x)))
    pred = f(x)
    chosen = ism.motif_probes(split, pred, "GCUGG", (0, 2), n=1)
    assert chosen["kind"].tolist() == ["0 mismatches", "2 mismatches"]
    deltas, table = ism.ism_probes(f, split, chosen, "GCUGG")
    assert deltas.shape == (2, 41, 4) and table.loc[0, "ratio"] > 1
    x_probes = split.x[table["index"].to_numpy()]
    fig = ism.fig_ism(deltas, x_probes, table, "GCUGG")  # every window tied at the fewest mismatches shaded
    ties = [len(t) for t in motifs.tied_windows(table["seq"], "GCUGG", length=41)]
    assert [sum(p.get_alpha() == 0.25 for p in ax.patches) for ax in fig.axes] == ties and min(ties) >= 1
    hl = ism.high_low_probes(split, pred, "GCUGG", n=2)
    assert hl["kind"].tolist() == ["high", "high", "low", "low"] and (hl["mismatches"] == 0).all()


@pytest.fixture(scope="module")
def battery_run(tmp_path_factory):
    x = _bg(400)
    f = lambda z: count("UGCAUG")(z) + 0.3 * count("GCAUG")(z)  # noqa: E731
    y = f(x) + RNG.normal(0, 0.1, len(x))
    data = SimpleNamespace(train=_split(x[:300], y[:300]), test=_split(x[300:], y[300:]))
    b = battery.run_battery(f, data, "RNCMPT00168", reference_dir=REFERENCE, num_background=40, k=3,
                             kmer_start=17, scan="both", n_screen=10, n_boot=100, n_ism=5)
    return b, tmp_path_factory.mktemp("res")


def test_battery_record_and_tables(battery_run):
    b, res = battery_run
    rec = b.to_record()
    assert rec["scan"]["evaluations"]["exhaustive"] == 4**3 * 40 + 40 and rec["scan"]["top10_shared"] >= 8
    assert rec["motif"] == rec["top_kmers"][0]["kmer"] and "qvalue" in rec["top_kmers"][0]
    assert rec["alignment"]["reference"] == "RNCMPT00168" and -1 <= rec["alignment"]["similarity"]["r"] <= 1
    assert {"optimal", "suboptimal"} == set(rec["multiplicity"]) and "local" not in rec["multiplicity"]["optimal"]
    assert rec["spacing"]["reference"] == 17 and rec["spacing"]["single"]["n"] == 40  # the single copy at 17
    assert rec["gc"]["interaction3"]["verdict"] in {"amplifies", "dampens", "adds", "no effect"}
    assert rec["scan"]["standout"]["verdict"] in {"motif found", "no motif"} and len(rec["holm"]) >= 8
    assert rec["ism_gc3"]["n_probes"] == 5 and rec["positions"]["gc_starts"] == [0, 35]
    for e in ("RNCMPT00168", "OTHER"):
        battery.write_battery(res, b, {"experiment": e, "test_pearson": 0.5})
    recs = battery.read_batteries(res, ["RNCMPT00168", "OTHER"])
    assert list(recs) == ["RNCMPT00168", "OTHER"]
    assert len(across.supplementary_table1(recs)) == 2
    mt = across.multiplicity_table(recs)
    assert len(mt) == 2 and report.verdict_counts(mt).endswith("(n = 2)")
    gt = gc.gc_table(recs)
    assert set(gt["3' verdict"]) <= {"amplifies", "dampens", "adds", "no effect"}
    assert len(across.spacing_table(recs)) == 2 * 3 and len(across.scan_table(recs)) == 2
    with pytest.raises(DataError, match="MISSING"):
        battery.read_batteries(res, ["MISSING"])


def test_a_spacing_pair_not_placed_is_shown_and_counted(battery_run):
    b, _ = battery_run
    rec = b.to_record()
    placed = len(rec["spacing"]["pairs"]) + len(rec["spacing"]["skipped"])
    other = copy.deepcopy(rec)
    first = other["spacing"]["pairs"].pop(0)  # as if its copies overlapped with different letters
    other["spacing"]["skipped"] = [[first["start_1"], first["start_2"]], *other["spacing"]["skipped"]]
    table = across.spacing_table({"A": rec, "B": other})
    assert len(table) == 2 * placed  # every arrangement asked for is a row
    missing = table[table["verdict"] == across.NOT_PLACED]
    label = f"{first['start_1'] + 1}+{first['start_2'] + 1}, gap {first['gap']}"
    assert label in missing.loc[missing["experiment"] == "B", "pair"].tolist()
    assert missing["vs copies alone"].isna().all()
    summary = across.spacing_summary(table)
    assert f"{len(missing)} of the {len(table)} arrangements not placed" in summary and f"{label} in B" in summary
    assert f"(n = {len(table) - len(missing)})" in summary  # the verdicts count the placed ones only
    assert f"not placed: {first['start_1'] + 1}+{first['start_2'] + 1}" in battery.battery_findings(other)


def _schema_only(obj):
    """``obj`` keeping, in every part with a known ``kind``, only the keys of its schema."""
    if isinstance(obj, dict):
        keys = records.SCHEMAS.get(obj.get("kind"), tuple(obj)) if isinstance(obj.get("kind"), str) else tuple(obj)
        return {k: _schema_only(obj[k]) for k in keys}
    return [_schema_only(v) for v in obj] if isinstance(obj, list) else obj


def test_battery_record_round_trips_through_read_record(battery_run):
    b, res = battery_run
    battery.write_battery(res, b, {"test_pearson": 0.5, "config": {"seed": 0}})
    rec = records.read_record(res, "RNCMPT00168", battery.BATTERY, kind="battery")
    assert set(records.SCHEMAS["battery"]) <= set(rec) and rec.kind == "battery" and rec.config.seed == 0
    parts = {"mutagenesis": rec.mutagenesis, "multiplicity": rec.multiplicity.optimal, "spacing": rec.spacing,
             "gc_bias": rec.gc, "battery_scan": rec.scan, "alignment": rec.alignment, "ism_gc3": rec.ism_gc3}
    assert {kind: part.kind for kind, part in parts.items()} == {kind: kind for kind in parts}
    written = records.as_record(b.to_record() | {"test_pearson": 0.5, "config": {"seed": 0}})
    assert {k: v for k, v in rec.items() if k != "notebook"} == written  # JSON loses nothing
    assert rec.multiplicity.optimal.ratio.mean == pytest.approx(b.multiplicity["optimal"].ratio.mean)
    assert rec.spacing.pairs[0].vs_additive.ci_low == pytest.approx(b.spacing.vs_additive[0].ci_low)
    assert [t.kmer for t in rec.top_kmers] == b.scan["kmer"].head(10).tolist() and rec.test_pearson == 0.5
    assert battery.top_kmers_of(res, "RNCMPT00168")[0].kmer == rec.motif
    results.write_results(res, "OLD", battery.BATTERY, {"multiplicity": {"optimal": {"ratio": 3.0}}})
    with pytest.raises(DataError, match="not a battery record"):  # a record of the old layout
        battery.read_batteries(res, ["OLD"])


def test_tables_read_only_schema_fields(battery_run):
    """Every table over experiments gives the same rows from records cut down to the schema's keys, and a
    record lacking a schema key is refused by name (not read as a KeyError or a silent None)."""
    b, res = battery_run
    full = {e: records.as_record(b.to_record() | {"experiment": e, "test_pearson": 0.5}) for e in ("A", "B")}
    cut = {e: records.as_record(_schema_only(dict(r))) for e, r in full.items()}
    for table in (across.supplementary_table1, across.scan_table, across.scan_cost_table, across.multiplicity_table,
                  across.spacing_table, gc.gc_table):
        pd.testing.assert_frame_equal(table(cut), table(full))
        assert len(table(cut)) >= 1
    assert battery.battery_findings(cut["A"]) == battery.battery_findings(b.to_record())
    broken = b.to_record() | {"experiment": "BROKEN"}
    del broken["multiplicity"]["optimal"]["ratio"]
    results.write_results(res, "BROKEN", battery.BATTERY, broken, allow_nan=True)
    with pytest.raises(DataError, match=r"multiplicity record without \['ratio'\]"):
        battery.read_batteries(res, ["BROKEN"])


def test_structure_record_keeps_the_vts1_layout(battery_run, tmp_path):
    b, _ = battery_run
    bg = _bg(30)
    tests = {kind: gia.hairpin_context(gia.GIA(count("GCUGGC"), bg), "GCUGGC", 16, 8, n_boot=50)
             for kind in ("seq", "pu")}
    models = {kind: TrainedModel(None, {"metrics": {"test_pearson": r}}, None)
              for kind, r in (("seq", 0.6), ("pu", 0.7))}
    top = gia_records.scan_record(b.scan)["top_kmers"]
    rec = vts1.structure_record(models, tests, motif="GCUGGC", top_kmers=top, top_kmers_source="05_gia record",
                                    epochs=1)
    results.write_results(tmp_path, "VTS1", "06_structure_vts1", rec, allow_nan=True)
    back = records.read_record(tmp_path, "VTS1", "06_structure_vts1", kind="structure")
    assert back.test_pearson == {"seq": 0.6, "pu": 0.7} and list(back.top_kmers[0])[0] == "kmer" and back.epochs == 1
    for kind in ("seq", "pu"):
        effect = back.structure_effect[kind]
        assert effect.kind == "hairpin" and {"mean", "ci_low", "ci_high"} <= set(effect)
        assert effect.mean == pytest.approx(tests[kind].structure_effect.mean) and effect.n_designed == 30
    with pytest.raises(DataError, match="twice"):
        vts1.structure_record(models, tests, motif="GCUGGC", top_kmers=top, top_kmers_source="x",
                                  test_pearson={})


def test_battery_figures(battery_run):
    import matplotlib

    matplotlib.use("Agg")
    from rbgia import plotting

    b, _ = battery_run
    for fig in (battery.fig_scan(b), battery.fig_motifs(b), battery.fig_variants(b), battery.fig_multiplicity(b),
                battery.fig_spacing(b), gc.fig_gc(b)):
        assert 1 <= len(fig.axes) <= 3
    with matplotlib.rc_context():  # the book's style: each figure reads at the page's width (issue 13)
        plotting.book_style()
        for make in (battery.fig_scan, battery.fig_motifs, battery.fig_variants, battery.fig_multiplicity,
                     battery.fig_spacing, gc.fig_gc):
            assert report.check_figure(make(b), warn=False) == [], make.__name__
    table = pd.DataFrame({"a": [1.0, 2.0, math.nan]})
    assert len(gc.fig_histograms(table, {"a": 1.0}).axes) == 1


def test_a_top_kmer_that_does_not_stand_out_leaves_every_motif_verdict_undetermined(battery_run):
    """The battery's motif is its own top k-mer: when that k-mer does not stand out (a model that learnt nothing
    still responds to its best k-mer), no verdict about how it combines is a finding (rbgia.verdicts.motif_gate)."""
    b, _ = battery_run
    assert b.motif_stands_out and "no motif" not in set(b.holm["reason"])  # the toy's motif stands out
    summary = dataclasses.replace(b.scan_summary, standout=dataclasses.replace(b.scan_summary.standout,
                                                                               verdict="no motif"))
    null = dataclasses.replace(b, scan_summary=summary)
    table = null.holm.set_index("test")
    about = table.drop(index="ISM 3' G/C")
    assert (about["final"] == "undetermined").all() and (about["reason"] == "no motif").all()
    assert table.loc["ISM 3' G/C", "final"] == table.loc["ISM 3' G/C", "verdict"]  # of the probes, not the motif
    heads = null.headlines()
    assert heads["top k-mer"] == "no motif" and {heads[h] for h in heads if h != "top k-mer"} == {"undetermined"}
    rec = null.to_record()
    assert rec["multiplicity"]["optimal"]["verdict"] == "undetermined"
    assert "does not stand out" in rec["multiplicity"]["optimal"]["rule"]
    for heads in rec["sensitivity"].values():  # every background kind's verdicts go through the same gate
        assert {v for name, v in heads.items() if name != "top k-mer"} == {"undetermined"}
    given = dataclasses.replace(null, scan_summary=dataclasses.replace(summary, top_kmer="AAA"))
    assert given.motif_stands_out  # a motif that is not the scan's top k-mer was given: its verdicts stand


def test_the_hairpin_verdict_is_recomputed_on_the_other_backgrounds():
    """Chapter 06's background sensitivity: each model's hairpin verdict on the profile background (the tests given)
    and again on the dinucleotide-shuffled and low-binder backgrounds; a position-only model claims nothing on any."""
    x = _bg(200)  # a quartile of the probes holds every background
    y = np.random.default_rng(3).normal(size=len(x))
    position = lambda v: 0.5 * _windows(v[:, 16:22], "GCUGGC").any(1)  # noqa: E731 - a position effect only
    models = {"seq": TrainedModel(position, {}, SimpleNamespace(train=_split(x, y)))}
    kw = {"num_background": 40, "loop_start": 16, "stem_start": 8, "n_boot": 200}
    tests = vts1.hairpin_tests(models, "GCUGGC", **kw)
    table = vts1.hairpin_sensitivity(models, "GCUGGC", tests, **kw)
    assert list(table.columns) == ["model", "profile", "dinuc", "quartile1", "agree"]
    row = table.iloc[0]
    assert row["profile"] == tests["seq"].verdict
    assert {row["profile"], row["dinuc"], row["quartile1"]} <= {"no structure effect", "undetermined"}
    assert row["agree"] == (len({row["profile"], row["dinuc"], row["quartile1"]}) == 1)
    text = vts1.structure_findings(vts1.structure_table(tests), table)
    assert "On the profile, dinuc, quartile1 backgrounds: seq " in text
    assert "the same verdict on every one" in text if row["agree"] else "differs (" in text


def test_the_gc_end_test_across_experiments_leaves_out_motifs_that_do_not_stand_out():
    """An experiment whose top k-mer does not stand out has no motif for a GC run to amplify (the motif gate):
    it does not enter the across-experiment end test, whatever its numbers."""
    rel = [0.3, 0.2, 0.25, 0.4, 0.1, 0.35, -0.5, -0.6, -0.7, -0.4]
    table = pd.DataFrame({"motif significant": True, "motif stands out": [True] * 6 + [False] * 4,
                          "relative 3' - 5'": rel, "effect 5'": 0.9, "effect 3'": 1.1})
    test = gc.gc_across(table)
    assert test.n == 6 and test.n_pairs == 6 and test.verdict == "3' bias"  # exact p = 1/64
    everything = gc.gc_across(table.assign(**{"motif stands out": True}))
    assert everything.n == 10 and everything.verdict == "no 3' bias shown"


def test_the_gc_chapter_interprets_a_gia_ism_disagreement():
    from rbgia.chapters import gc as gc_chapter

    table = pd.DataFrame({"biased end": ["3'", "3'", "none"], "ISM verdict": ["no 3' bias", "3' bias", "no 3' bias"]})
    (line,) = gc_chapter.gia_vs_ism(table)
    assert "GIA finds the 3' end favoured in 2 of 3 experiments, ISM in 1, so GIA sees the bias" in line
    agree = table.assign(**{"ISM verdict": ["3' bias", "3' bias", "no 3' bias"]})
    assert gc_chapter.gia_vs_ism(agree) == []  # they agree: nothing to explain


def test_the_across_chapter_names_its_outliers_with_what_may_explain_them():
    from rbgia.chapters import across as across_chapter

    supp = pd.DataFrame({"experiment": ["A", "B"], "similarity r": [0.9, -0.05]})
    mult = pd.DataFrame({"experiment": ["A", "B"], "R2 (1..n fit)": [0.99, 0.1],
                         "verdict": ["additive", "undetermined"], "vs copies alone": [1.0, 1.2],
                         "ratio n/1": [3.0, 1.5]})
    scans = pd.DataFrame({"experiment": ["A", "B"], "test r": [0.8, 0.4], "motif": ["motif found", "no motif"]})
    text = across_chapter.across_findings(mult, pd.DataFrame(), supp, scans)
    assert "Least like its RNAcompete motif: B (r -0.05; its model's test r 0.40, its top 6-mer: no motif)" in text
    assert "Poorest line through 1-3 copies: B (R\u00b2 0.1, verdict undetermined;" in text
