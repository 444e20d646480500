"""rbgia.book.params: a notebook's parameters validated in one call (issue 11, cases 11 and 12).

Before rbgia.book.params, ``papermill ... -p epochs ten`` failed deep inside ``fit`` with a raw
TypeError after the data was loaded, and ``-p num_backgroud 7`` ran with the default; each
test below fails without the module (ImportError) or the runner's check.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from rbgia import book
from rbgia.book import params
from rbgia.errors import DataError

REPO = Path(__file__).resolve().parents[1]

PARAMS_CELL = '''data_dir = "data/simulated"
experiment = "SIMRBFOX1"
epochs = 6
num_background = 300
seed = 0
k = 6
lr = 0.001
baselines = True
experiments = ["SIMRBFOX1", "SIMHUR"]
n_series = [25, 50]
motif = None
fill_parameters = {"scan": "adaptive"}
config = "log-seq-paper-s0"
structure_config = "log-pu-paper-s0"
valid_fraction = 0.1
step = 2 * 3'''


@pytest.fixture
def nb(tmp_path) -> Path:
    path = tmp_path / "notebooks" / "77_toy.ipynb"
    path.parent.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(PARAMS_CELL)
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell, nbformat.v4.new_code_cell("P = params.check(globals(), '77_toy')")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


def _namespace(**changes):
    ns: dict = {}
    exec(PARAMS_CELL, {}, ns)
    ns.update(changes)
    return ns


def test_defaults_pass_and_display_once(nb):
    used = params.check(_namespace(), str(nb))
    assert isinstance(used, params.Parameters) and list(used) == list(_namespace())
    html = used._repr_html_()
    assert html.count("<tr>") == len(used) + 1 and "<th>parameter</th><th>value</th>" in html
    assert "SIMRBFOX1, SIMHUR" in html and "scan: adaptive" in html
    md = used._repr_markdown_().splitlines()
    assert md[0] == "| parameter | value |" and len(md) == len(used) + 2


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("epochs", "ten", r"parameter epochs = 'ten' \(str\) is not valid: expected an int; e\.g\. `-p epochs 6`"),
        ("epochs", 0, r"epochs = 0 \(int\) .*expected a value >= 1"),
        ("epochs", 2.5, r"epochs = 2\.5 \(float\) .*an int"),
        ("num_background", 1, r"num_background = 1 .*>= 2; e\.g\. `-p num_background 300`"),
        ("seed", -1, r"seed = -1 .*>= 0"),
        ("k", 11, r"k = 11 .*in 1\.\.10"),
        ("baselines", "yes", r"baselines = 'yes' \(str\) .*True or False"),
        ("lr", "fast", r"lr = 'fast' .*a number"),
        ("lr", 0.0, r"lr = 0\.0 .*> 0"),
        ("valid_fraction", 1.5, r"valid_fraction = 1\.5 .*in \(0, 1\]"),
        ("config", "zscore-seq-paper-s0", r"config = 'zscore-seq-paper-s0' .*configuration tag .*\['log', 'clip'\]"),
        ("config", "log", r"config = 'log' \(str\) .*'<normalization>-<inputs>-<variant>-s<seed>'"),
        ("structure_config", "log-rna-paper-s0", r"structure_config = .*inputs \['seq', 'pu', 'phime'\].*"
         r"e\.g\. `-p structure_config log-pu-paper-s0`"),
        ("config", 3, r"config = 3 \(int\) .*configuration tag"),
        ("experiments", 3, r"experiments = 3 \(int\) .*a list"),
        ("n_series", "10,x", r"n_series = '10,x' .*comma-separated list of ints"),
        ("fill_parameters", "adaptive", r"fill_parameters .*a mapping"),
        ("data_dir", 7, r"data_dir = 7 \(int\) .*a string"),
    ],
)
def test_bad_values_are_one_line_errors(nb, name, value, expected):
    with pytest.raises(DataError, match=expected) as err:
        params.check(_namespace(**{name: value}), str(nb))
    assert "\n" not in str(err.value)


def test_conversions(nb):
    ns = _namespace(lr=1, experiments="SIMHUR, SIMNULL", n_series="10,20", motif=[1, "x"], step="anything")
    used = params.check(ns, str(nb))
    assert used["lr"] == 1.0 and isinstance(used["lr"], float)  # float accepts int
    assert used["experiments"] == ["SIMHUR", "SIMNULL"] and used["n_series"] == [10, 20]
    assert used["motif"] == [1, "x"] and used["step"] == "anything"  # None / expression defaults: anything
    assert ns["experiments"] == ["SIMHUR", "SIMNULL"]  # written back for the cells below
    untouched = _namespace(experiments="A,B")
    params.check(untouched, str(nb), update=False)
    assert untouched["experiments"] == "A,B"


def test_config_parameters_are_canonical_tags(nb):
    """One training configuration parameter (issue 9.4): a TrainConfig tag, or a TrainConfig, checked as a tag."""
    from rbgia.config import TrainConfig

    ns = _namespace(config=TrainConfig(normalization="clip", seed=2), structure_config="log-pu-paper-s01")
    used = params.check(ns, str(nb))
    assert used["config"] == "clip-seq-paper-s2" and used["structure_config"] == "log-pu-paper-s1"
    assert params.validate({"config": "clip-phime-public-s3"}, nb) == {"config": "clip-phime-public-s3"}


def test_unknown_parameter_is_named_with_the_closest(nb):
    # papermill -p num_backgroud 7 only warns; rbgia's runner refuses it
    expected = r"unknown parameter num_backgroud for 77_toy\.ipynb.*did you mean num_background"
    with pytest.raises(DataError, match=expected):
        params.validate({"num_backgroud": 7}, nb)
    assert params.validate({"num_backgroud": 7, "k": 4}, nb, unknown="ignore") == {"k": 4}


def test_notebook_lookup_by_stem(nb, monkeypatch):
    monkeypatch.chdir(nb.parents[1])  # papermill's cwd: the repository root
    assert params.check(_namespace(), "77_toy")["epochs"] == 6
    with pytest.raises(DataError, match="not found under notebooks/"):
        params.check({}, "99_none")


def test_every_notebooks_defaults_are_valid():
    """The ranges table agrees with every chapter's declared defaults."""
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        defaults = params.declared_defaults(path)
        if defaults:
            params.validate({k: v for k, v in defaults.items() if v is not params._UNPARSED}, path)
        assert defaults.keys() == params.declared_parameters(path).keys()  # one reading: papermill's


@pytest.mark.slow
def test_in_a_notebook_the_table_shows_once_and_a_bad_value_stops_the_cell(nb, tmp_path):
    """`papermill ... -p epochs ten` now stops in the check cell with the parameter named (was: a TypeError in fit)."""
    import papermill

    root = nb.parents[1]
    nb.write_text(nb.read_text().replace("params.check", "__import__('rbgia.book.params').book.params.check"))
    out = tmp_path / "out.ipynb"
    book.execute(nb, out, {"epochs": 3}, root=root)
    shown = [o for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", [])
             if "text/html" in o.get("data", {})]
    assert len(shown) == 1 and "rbgia-parameters" in shown[0]["data"]["text/html"]
    assert "<td><code>epochs</code></td><td>3</td>" in shown[0]["data"]["text/html"]
    book.ensure_kernel(root)
    with pytest.raises(papermill.PapermillExecutionError, match=r"DataError: parameter epochs = 'ten' \(str\)"):
        papermill.execute_notebook(str(nb), str(out), parameters={"epochs": "ten"}, cwd=str(root),
                                   kernel_name="python3", progress_bar=False)
