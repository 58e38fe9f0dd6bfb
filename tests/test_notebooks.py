"""Every notebook under demos/ runs top to bottom as a learner runs it, and draws.

The notebooks are kept as plain-text scripts in jupytext's percent format
(``demos/<chapter>/notebook.py``). This test needs the notebooks extra
(``pip install -e ".[notebooks]"``: jupytext, nbclient, ipykernel) and is skipped
without it; ``.ci/run`` installs it and sets TINYVAE_REQUIRE_NOTEBOOKS=1, which turns
that skip into a failure.
"""

import glob
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "demos", "*", "notebook.py")))
IDS = [os.path.basename(os.path.dirname(path)) for path in NOTEBOOKS]


def test_every_chapter_has_a_notebook():
    chapters = {"aevb", "semi_supervised", "deeper", "dropout", "adam", "exercises"}
    assert chapters <= set(IDS)


def needs(name):
    """The module ``name``, or a skip (a failure where CI asks for the notebooks)."""
    if os.environ.get("TINYVAE_REQUIRE_NOTEBOOKS"):
        return __import__(name)
    return pytest.importorskip(name)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_notebook_runs_top_to_bottom_and_draws(path, tmp_path, monkeypatch):
    jupytext, nbclient = needs("jupytext"), needs("nbclient")
    needs("ipykernel")
    notebook = jupytext.read(path)
    # the kernel runs as a learner's would: it draws inline, and fit chooses BLAS's threads
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.delenv("TINYVAE_BLAS_THREADS", raising=False)
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # run where it may write files
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback
    outputs = [out for cell in notebook.cells for out in cell.get("outputs", [])]
    errors = [out for out in outputs if out.get("output_type") == "error"]
    assert not errors
    if IDS[NOTEBOOKS.index(path)] != "exercises":
        assert any("image/png" in out.get("data", {}) for out in outputs), "it draws no figure"


def test_write_notebooks_gives_what_jupytext_reads(tmp_path):
    """demos/write_notebooks.py (no dependencies) turns each script into the cells that
    jupytext makes of it."""
    jupytext = needs("jupytext")
    script = os.path.join(ROOT, "demos", "write_notebooks.py")
    subprocess.run([sys.executable, script, "--out", str(tmp_path)], check=True)
    for path, name in zip(NOTEBOOKS, IDS):
        ours = json.loads((tmp_path / f"{name}.ipynb").read_text())
        theirs = jupytext.read(path)
        assert [c["cell_type"] for c in ours["cells"]] == [c.cell_type for c in theirs.cells]
        assert ["".join(c["source"]) for c in ours["cells"]] == [c.source for c in theirs.cells]
