"""The Snakemake scale-out (workflow/): job graph, profiles, failure handling, a real run.

Every run happens in a tmp directory (``--directory``-style: cwd = tmp, results and
data under tmp), so nothing is written into the repository.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "workflow" / "Snakefile"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
TRAIN_NB = "02_residualbind"
PER_EXP_NB = ["04_ism", "05_gia", "07_gc_bias"]
ACROSS_NB = ["03_benchmark", "08_across_experiments"]

pytestmark = pytest.mark.skipif(not SNAKEMAKE.exists(), reason="snakemake is not installed in this environment")


def _yaml(path: Path, obj: dict) -> Path:
    # JSON is YAML: no PyYAML needed to write a config file.
    path.write_text(json.dumps(obj, indent=1))
    return path


def _snakemake(cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow", "PYTHONHASHSEED": "0"}
    return subprocess.run(
        [str(SNAKEMAKE), "-s", str(SNAKEFILE), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _jobs(dry_run_output: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, wildcards) of every job a dry run lists."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", dry_run_output):
        m = re.match(r"(?:local)?rule (\w+):", block)
        if not m:
            continue
        w = re.search(r"^\s+wildcards: (.*)$", block, re.M)
        wildcards = dict(kv.split("=", 1) for kv in w.group(1).split(", ")) if w else {}
        jobs.append((m.group(1), wildcards))
    return jobs


def _job_stats(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run as {rule: count}."""
    table = output.split("Job stats:")[-1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m.group(1) != "total"}


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"wf_{name}", REPO / "workflow" / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _deepbind_dir(path: Path, n_experiments: int) -> list[str]:
    """A synthetic DeepBind-layout folder: n_experiments target columns, two probes."""
    ids = [f"RNCMPT{i:05d}" for i in range(1, n_experiments + 1)]
    path.mkdir(parents=True, exist_ok=True)
    (path / "sequences.tsv").write_text(
        "Fold ID\tEvent ID\tseq\nA\tp1\tACGUACGUACGUACGUACGUACGUACGUACGUACGUACGUA\n"
        "B\tp2\tUGCAUGUGCAUGUGCAUGUGCAUGUGCAUGUGCAUGUGCAU\n"
    )
    (path / "targets.tsv").write_text("\t".join(ids) + "\n" + "\t".join(["0.5"] * len(ids)) + "\n" + "\t".join(["1.5"] * len(ids)) + "\n")
    return ids


# --------------------------------------------------------------------------- dry runs


def test_dry_run_lists_every_job_for_244_experiments(tmp_path):
    """The paper's configuration file over a 244-column targets.tsv: 4 configurations."""
    ids = _deepbind_dir(tmp_path / "data", 244)
    cfg = _yaml(tmp_path / "over.yaml", {"data_dir": str(tmp_path / "data"), "results_dir": str(tmp_path / "results")})
    paper = REPO / "workflow" / "config.paper.yaml"
    out = _snakemake(tmp_path, "--cores", "2", "--configfile", str(paper), str(cfg), "-n")
    assert out.returncode == 0, out.stderr[-3000:] + out.stdout[-3000:]
    text = out.stdout + out.stderr
    n = len(ids)
    stats = _job_stats(text)
    assert stats == {"prepare": 3, "train": 4 * n, "analyse": len(PER_EXP_NB) * n, "across": len(ACROSS_NB), "summary": 1, "all": 1}
    jobs = _jobs(text)
    per_tag: dict[str, set[str]] = {}
    for rule, w in jobs:
        if rule == "train":
            per_tag.setdefault(w["tag"], set()).add(w["experiment"])
    assert sorted(per_tag) == sorted(["log-seq-paper-s0", "clip-seq-paper-s0", "log-pu-paper-s0", "log-phime-paper-s0"])
    assert all(exps == set(ids) for exps in per_tag.values())  # 244 train jobs per configuration
    analysed = {(w["experiment"], w["nb"]) for rule, w in jobs if rule == "analyse"}
    assert analysed == {(e, nb) for e in ids for nb in PER_EXP_NB}
    assert {w["inputs"] for rule, w in jobs if rule == "prepare"} == {"seq", "pu", "phime"}  # once per dataset and inputs
    assert not (tmp_path / "results").exists()  # a dry run writes nothing


def test_dry_run_grid_and_parameters(tmp_path):
    """normalization x inputs is a product; each notebook gets the parameters it declares."""
    _deepbind_dir(tmp_path / "data", 3)
    cfg = _yaml(
        tmp_path / "over.yaml",
        {"data_dir": str(tmp_path / "data"), "results_dir": str(tmp_path / "results"),
         "normalization": ["log", "clip"], "inputs": ["seq", "pu"], "epochs": 3},
    )
    out = _snakemake(tmp_path, "--cores", "2", "--configfile", str(cfg), "-n", "-p")
    assert out.returncode == 0, out.stderr[-3000:] + out.stdout[-3000:]
    text = out.stdout + out.stderr
    assert _job_stats(text)["train"] == 4 * 3 and _job_stats(text)["prepare"] == 2
    calls = re.findall(r"run_notebook\.py \S+/(\w+)\.ipynb \S+ --params '(\{.*?\})'", text)
    assert calls
    for nb, raw in calls:
        params = json.loads(raw)
        assert params["results_dir"] == str(tmp_path / "results")
        if nb == TRAIN_NB:
            assert params["epochs"] == 3 and params["compare_normalization"] is False
            assert params["baselines"] is (params["normalization"] == "log" and params["inputs"] == "seq")
        if nb in PER_EXP_NB:
            assert (params["normalization"], params["inputs"]) == ("log", "seq")  # the analysis configuration
        if nb == "03_benchmark":
            assert params["train_missing"] is False
            assert params["experiments"] == ["RNCMPT00001", "RNCMPT00002", "RNCMPT00003"]
            assert params["normalizations"] == ["log", "clip"] and params["inputs_kinds"] == ["seq", "pu"]


def test_dry_run_rejects_unknown_experiments_and_missing_data(tmp_path):
    _deepbind_dir(tmp_path / "data", 3)
    cfg = _yaml(tmp_path / "over.yaml", {"data_dir": str(tmp_path / "data"), "results_dir": str(tmp_path / "r"), "experiments": ["RNCMPT00001", "RNCMPT99999"]})
    out = _snakemake(tmp_path, "--cores", "1", "--configfile", str(cfg), "-n")
    assert out.returncode != 0
    assert "RNCMPT99999" in out.stdout + out.stderr and "not in" in out.stdout + out.stderr
    cfg = _yaml(tmp_path / "over2.yaml", {"data_dir": str(tmp_path / "nowhere"), "results_dir": str(tmp_path / "r")})
    out = _snakemake(tmp_path, "--cores", "1", "--configfile", str(cfg), "-n")
    assert out.returncode != 0 and "does not exist" in out.stdout + out.stderr


def test_slurm_profile_puts_the_gpu_on_training_jobs_only(tmp_path):
    _deepbind_dir(tmp_path / "data", 2)
    cfg = _yaml(tmp_path / "over.yaml", {"data_dir": str(tmp_path / "data"), "results_dir": str(tmp_path / "results")})
    # A dry run caps threads at --cores (1 by default); a real SLURM run does not.
    slurm = str(REPO / "workflow" / "profiles" / "slurm")
    out = _snakemake(tmp_path, "--profile", slurm, "--configfile", str(cfg), "-n", "-p", "--cores", "64")
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout + out.stderr
    blocks = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", text):
        m = re.match(r"(?:local)?rule (\w+):", block)
        if m:
            blocks.setdefault(m.group(1), []).append(block)
    assert len(blocks["train"]) == 2
    assert all("gres=gpu:1" in b for b in blocks["train"])
    assert all("--threads 4 " in b for b in blocks["train"])  # -> sbatch --cpus-per-task=4
    assert all("--threads 8 " in b for b in blocks["analyse"]) and "--threads 16 " in blocks["prepare"][0]
    assert not any("gres=" in b for rule in ("prepare", "analyse", "across") for b in blocks[rule])
    assert all("runtime=" in b and "mem_mb=" in b for rule in ("prepare", "train", "analyse") for b in blocks[rule])


# --------------------------------------------------------------------------- summary script


def test_summary_counts_experiments_and_pearson_per_configuration(tmp_path, capsys):
    from rbgia.results import write_results

    summary = _load_script("summary")
    r = {"A": 0.5, "B": 0.7, "C": 0.9}
    for exp, value in r.items():
        rec = {"test_pearson": value, "baselines": {"kmer_ridge": {"test_pearson": value / 2}}}
        write_results(tmp_path, exp, TRAIN_NB, rec, config={"normalization": "log"})
    write_results(tmp_path, "A", TRAIN_NB, {"test_pearson": 0.1}, config={"normalization": "clip"})
    summary.main(["--results-dir", str(tmp_path), "--experiments", "A", "B", "C", "D", "--out", str(tmp_path / "s.tsv"), "--table", str(tmp_path / "t.tsv")])
    printed = capsys.readouterr()
    s = pd.read_csv(tmp_path / "s.tsv", sep="\t").set_index("config")
    assert s.loc["log-seq-paper-s0", "experiments_done"] == 3
    assert s.loc["log-seq-paper-s0", "experiments_expected"] == 4
    assert s.loc["log-seq-paper-s0", "mean_pearson"] == pytest.approx(0.7, abs=1e-4)
    assert s.loc["log-seq-paper-s0", "sd_pearson"] == pytest.approx(0.2, abs=1e-4)
    assert s.loc["log-seq-paper-s0", "mean_pearson_kmer_ridge"] == pytest.approx(0.35, abs=1e-4)
    assert s.loc["clip-seq-paper-s0", "experiments_done"] == 1
    assert s.loc["clip-seq-paper-s0", "mean_pearson"] == pytest.approx(0.1, abs=1e-4)
    t = pd.read_csv(tmp_path / "t.tsv", sep="\t")
    assert len(t) == 4 and set(t["experiment"]) == {"A", "B", "C"}
    assert "log-seq-paper-s0" in printed.out and "D" in printed.err  # D is reported as not done


# --------------------------------------------------------------------------- runs

_PARAMS = '''data_dir = "data/simulated"
results_dir = "results"
experiment = "SIMRBFOX1"
normalization = "log"
inputs = "seq"
variant = "paper"
background = "profile"
num_background = 10
epochs = 1
seed = 0'''


def _stand_in_notebooks(folder: Path) -> Path:
    """Tiny notebooks with the real ones' parameters and records, no model: for
    testing the workflow's bookkeeping (failure, resume) in seconds. The training
    one fails for an experiment whose flag file FAIL_<experiment> is in results_dir."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, *cells: str) -> None:
        nb = nbformat.v4.new_notebook()
        first = nbformat.v4.new_code_cell(_PARAMS)
        first.metadata["tags"] = ["parameters"]
        nb.cells = [first, *(nbformat.v4.new_code_cell(c) for c in cells)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")

    write(
        TRAIN_NB,
        "from pathlib import Path\nfrom rbgia import results",
        "if Path(results_dir, 'FAIL_' + experiment).exists():\n    raise RuntimeError('planted failure')",
        "cfg = dict(normalization=normalization, inputs=inputs, variant=variant, seed=seed)\n"
        "results.write_results(results_dir, experiment, '02_residualbind', {'test_pearson': len(experiment) / 10}, config=cfg)",
    )
    for name in PER_EXP_NB:
        write(name, f"from rbgia import results\nresults.write_results(results_dir, experiment, '{name}', {{'done': 1}})")
    for name in ACROSS_NB:
        write(name, f"from rbgia import results\ndf = results.collect(results_dir, '02_residualbind')\nresults.write_results(results_dir, None, '{name}', {{'n': len(df)}})")
    return folder


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    from rbgia.simulate import write_rnacompete

    return write_rnacompete(tmp_path_factory.mktemp("wfdata"), n_a=1500, n_b=500, seed=0)


@pytest.mark.slow
def test_failed_experiment_keeps_the_others_names_the_cell_and_resumes(tmp_path, tiny_data):
    results = tmp_path / "results"
    results.mkdir()
    (results / "FAIL_SIMHUR").touch()
    cfg = _yaml(
        tmp_path / "over.yaml",
        {
            "data_dir": str(tiny_data),
            "results_dir": str(results),
            "notebook_dir": str(_stand_in_notebooks(tmp_path / "nb")),
            "notebooks": {"train": TRAIN_NB, "per_experiment": ["05_gia"], "across": ["03_benchmark"]},
            "experiments": ["SIMRBFOX1", "SIMHUR"],
        },
    )
    local = str(REPO / "workflow" / "profiles" / "local")
    out = _snakemake(tmp_path, "--profile", local, "--configfile", str(cfg))
    assert out.returncode != 0
    # --keep-going: the other experiments finished, analyses included
    ok = results / "SIMRBFOX1"
    assert (ok / f"{TRAIN_NB}.log-seq-paper-s0.json").is_file() and (ok / "05_gia.json").is_file()
    assert (ok / "notebooks" / f"{TRAIN_NB}.log-seq-paper-s0.ipynb").is_file()
    assert not (results / "SIMHUR" / f"{TRAIN_NB}.log-seq-paper-s0.json").exists()
    assert not (results / "_all" / "summary.tsv").exists()
    # the log, and Snakemake's report of it, name the notebook and the cell
    log = (results / "SIMHUR" / "logs" / f"{TRAIN_NB}.log-seq-paper-s0.log").read_text()
    assert re.search(rf"NOTEBOOK FAILED: \S*{TRAIN_NB}\.ipynb, cell In \[\d+\]: RuntimeError: planted failure", log)
    assert "NOTEBOOK FAILED" in out.stdout + out.stderr
    assert (results / "SIMHUR" / "notebooks" / f"{TRAIN_NB}.log-seq-paper-s0.failed.ipynb").is_file()
    assert not list(results.rglob(".*.tmp.ipynb"))  # no half-written notebook left behind

    done = {p: p.stat().st_mtime_ns for p in ok.rglob("*") if p.is_file()}
    (results / "FAIL_SIMHUR").unlink()
    out = _snakemake(tmp_path, "--profile", local, "--configfile", str(cfg))
    assert out.returncode == 0, out.stderr[-3000:]
    assert _job_stats(out.stdout + out.stderr)["train"] == 1  # only the failed experiment reran
    assert all(p.stat().st_mtime_ns == t for p, t in done.items() if p.exists())
    summary = pd.read_csv(results / "_all" / "summary.tsv", sep="\t")
    assert summary["experiments_done"].tolist() == [2]
    assert not (results / "SIMHUR" / "notebooks" / f"{TRAIN_NB}.log-seq-paper-s0.failed.ipynb").exists()

    # one more experiment later: only its jobs (and the aggregates) are to run
    out = _snakemake(tmp_path, "--profile", local, "--configfile", str(cfg), "--config", "experiments=[SIMRBFOX1,SIMHUR,SIMNULL]", "-n")
    assert out.returncode == 0, out.stderr[-3000:]
    stats = _job_stats(out.stdout + out.stderr)
    assert stats == {"train": 1, "analyse": 1, "across": 1, "summary": 1, "all": 1}


@pytest.mark.slow
def test_local_run_over_three_simulated_experiments(tmp_path, tiny_data):
    experiments = ["SIMRBFOX1", "SIMHUR", "SIMNULL"]
    results = tmp_path / "results"
    cfg = _yaml(
        tmp_path / "over.yaml",
        {
            "data_dir": str(tiny_data),
            "results_dir": str(results),
            "experiments": experiments,
            "epochs": 1,
            "num_background": 30,
            "notebook_params": {
                "04_ism": {"n_examples": 1},
                "05_gia": {"k": 4, "n_screen": 20},
                "07_gc_bias": {"k": 4, "n_screen": 20, "n_boot": 200},
            },
            # tiny jobs are start-up bound: two 1-thread jobs at a time halve the wall time
            "threads": {"prepare": 1, "train": 1, "analyse": 1, "across": 1},
        },
    )
    out = _snakemake(tmp_path, "--cores", "2", "--configfile", str(cfg), "--keep-going")
    assert out.returncode == 0, out.stderr[-5000:]
    tag = "log-seq-paper-s0"
    for exp in experiments:
        assert (results / exp / "notebooks" / f"{TRAIN_NB}.{tag}.ipynb").is_file()
        assert (results / exp / "logs" / f"{TRAIN_NB}.{tag}.log").is_file()
        for nb in PER_EXP_NB:
            assert (results / exp / f"{nb}.json").is_file()
            assert (results / exp / "notebooks" / f"{nb}.{tag}.ipynb").is_file()
    summary = pd.read_csv(results / "_all" / "summary.tsv", sep="\t")
    assert summary["config"].tolist() == [tag]
    assert summary["experiments_done"].tolist() == [3] and summary["experiments_expected"].tolist() == [3]
    assert -1 <= summary["mean_pearson"].iloc[0] <= 1
    table = pd.read_csv(results / "_all" / "pearson.tsv", sep="\t")
    assert sorted(table["experiment"]) == sorted(experiments)  # one row per experiment
    for nb in ACROSS_NB:  # the across-experiment records: one entry per experiment
        rec = json.loads((results / "_all" / f"{nb}.json").read_text())
        assert sorted(rec["per_experiment"]) == sorted(experiments)
        assert (results / "_all" / "notebooks" / f"{nb}.ipynb").is_file()
    assert "experiments_done" in out.stderr or "experiments_done" in out.stdout  # the summary is printed
