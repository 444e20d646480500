"""The record schema: every GIA result's to_record() is JSON-ready with the schema's keys,
and records come back through read_record (rbgia.chapters.records) with attribute access and key checks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from toy_models import pwm

from rbgia import records
from rbgia.chapters import records as chapter_records
from rbgia.chapters import results
from rbgia.data import one_hot
from rbgia.errors import DataError
from rbgia.experiments import motif_mutagenesis, multiplicity, spacing
from rbgia.gcbias import gc_bias
from rbgia.hairpin import hairpin_context
from rbgia.scan import kmer_scan
from rbgia.session import GIA
from rbgia.stats import importance


@pytest.fixture(scope="module")
def session() -> GIA:
    rng = np.random.default_rng(1)
    return GIA(pwm, one_hot(["".join(rng.choice(list("ACGU"), 41)) for _ in range(40)]))


def test_importance_record_summarises_local_importances_by_quantiles():
    local = np.arange(101, dtype=float)
    rec = importance(local).to_record()
    assert list(rec) == list(records.SCHEMAS["importance"])
    assert list(rec["local"]) == list(records.LOCAL_KEYS)
    assert rec["local"]["median"] == 50 and rec["local"]["q25"] == 25 and rec["local"]["q975"] == 97.5
    assert rec["local"]["n"] == 101 and rec["mean"] == 50
    one = importance(np.array([1.0])).to_record()  # n = 1: sd, CI and p undefined -> None, not NaN
    assert one["ci_low"] is None and one["pvalue"] is None and one["local"]["sd"] is None
    json.dumps(one, allow_nan=False)


def test_every_result_has_a_json_ready_record_of_its_schema(session):
    made = {
        "mutagenesis": motif_mutagenesis(session, "UGCAUG"),
        "multiplicity": multiplicity(session, "UGCAUG", n_boot=50),
        "spacing": spacing(session, "UGCAUG", on_conflict="skip", n_boot=50),
        "gc_bias": gc_bias(GIA(lambda x: np.zeros(len(x)), session.background), "UGCAUG", n_boot=50),  # NaN effects
        "hairpin": hairpin_context(session, "GCUGGC", 16, 7, fold_check=False, n_boot=50),
    }
    for kind, res in made.items():
        rec = res.to_record()
        assert rec["kind"] == kind and list(rec) == list(records.SCHEMAS[kind])
        json.dumps(rec, allow_nan=False)
    assert made["gc_bias"].to_record()["effect5"]["mean"] is None  # undefined ratio
    assert made["hairpin"].to_record()["n_folded"] is None  # not checked


def test_scan_record_lists_top_kmers_with_kmer_first(session):
    table = kmer_scan(session, k=3, start=10)
    rec = records.scan_record(table, top=5)
    assert rec["kind"] == "scan" and rec["n_kmers"] == 64 and len(rec["top_kmers"]) == 5
    assert all(list(row)[0] == "kmer" for row in rec["top_kmers"])
    assert [row["kmer"] for row in rec["top_kmers"]] == list(table["kmer"].head(5))
    with pytest.raises(DataError, match="'kmer' column"):
        records.scan_record(pd.DataFrame({"mean": [1.0]}))


def test_read_record_gives_attributes_and_checks_the_schema(tmp_path, session):
    hp = hairpin_context(session, "GCUGGC", 16, 7, fold_check=False, n_boot=50)
    mult = multiplicity(session, "UGCAUG", n_boot=50)
    results.write_results(tmp_path, "VTS1", "06_structure_vts1",
                          {"structure_effect": {"seq": hp.to_record(), "pu": hp.to_record()},
                           "multiplicity": {"optimal": mult.to_record()}})
    effect = chapter_records.read_record(tmp_path, "VTS1", "06_structure_vts1", "structure_effect")
    assert effect.seq.mean == pytest.approx(hp.structure_effect.mean)
    assert effect.pu.ci_low == pytest.approx(hp.structure_effect.ci_low) and effect.seq.n_folded is None
    opt = chapter_records.read_record(tmp_path, "VTS1", "06_structure_vts1", ("multiplicity", "optimal"))
    assert opt.verdict == mult.verdict and opt.ratio.mean == pytest.approx(mult.ratio.mean)
    assert opt.copies[0].local.median == pytest.approx(float(np.median(mult.importances[0].local)))
    with pytest.raises(AttributeError, match="no key 'ratio_ci'"):
        _ = opt.ratio_ci
    with pytest.raises(DataError, match="has no 'gc'"):
        chapter_records.read_record(tmp_path, "VTS1", "06_structure_vts1", "gc")
    broken = mult.to_record()
    del broken["verdict"]
    results.write_results(tmp_path, "X", "05_gia", {"multiplicity": broken})
    with pytest.raises(DataError, match=r"multiplicity record without \['verdict'\]"):
        chapter_records.read_record(tmp_path, "X", "05_gia")


def test_make_record_refuses_keys_off_the_schema():
    with pytest.raises(DataError, match="keep them in step"):
        records.make_record("scan", n_kmers=1)
    with pytest.raises(DataError, match="unknown"):
        records.make_record("nope")
    assert records.jsonable({"a": (np.float32(1.5), np.nan, pd.NA, np.int64(2))}) == {"a": [1.5, None, None, 2]}


def test_read_record_checks_the_whole_records_kind(tmp_path, session):
    mult = multiplicity(session, "UGCAUG", n_boot=50)
    results.write_results(tmp_path, "X", "05_gia", {"multiplicity": {"optimal": mult.to_record()}})  # no kind
    with pytest.raises(DataError, match=r"not a battery record \(kind None\); rerun notebooks/05_gia.ipynb"):
        chapter_records.read_record(tmp_path, "X", "05_gia", kind="battery")
    assert chapter_records.read_record(tmp_path, "X", "05_gia", ("multiplicity", "optimal")).kind == "multiplicity"
    assert {"battery", "structure", "alignment", "battery_scan", "ism_gc3", "kd"} <= set(chapter_records.SCHEMAS)
    assert {"validation", "validation_comparison", "validation_side"} <= set(chapter_records.SCHEMAS)
    assert set(records.SCHEMAS) < set(chapter_records.SCHEMAS)  # the library knows the GIA kinds only
    assert "battery" not in records.SCHEMAS
