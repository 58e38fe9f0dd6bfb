"""The README and the chapter pages as a reader meets them: every relative link and image
resolves, and every Python block runs as written.

A block runs in a fresh interpreter, in a scratch folder, with TINYVAE_DATA as the
environment gives it. A block whose first line is ``# continues the block above`` runs
after the block before it, in the same interpreter. A block that says ``the docs test
runs this on N images`` trains on the first N training (and N/2 test) images of the
data set it loads: its output then differs, its code does not.
"""

import glob
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = sorted(
    {
        os.path.join(ROOT, "README.md"),
        *glob.glob(os.path.join(ROOT, "demos", "README.md")),
        *glob.glob(os.path.join(ROOT, "demos", "*", "README.md")),
        *glob.glob(os.path.join(ROOT, "benchmarks", "README.md")),
        *glob.glob(os.path.join(ROOT, "tests", "README.md")),
    }
)
PAGE_IDS = [os.path.relpath(page, ROOT) for page in PAGES]
CONTINUES = "# continues the block above"
SMALL = re.compile(r"the docs test runs this on ([\d,]+) images")

# loads the data sets a block asks for, cut to the size the block states
PREAMBLE = """
import dataclasses as _dataclasses

import tinyvae as _tv

def _small(load, n):
    def cut(*args, **kwargs):
        data = load(*args, **kwargs)
        sizes = {"x_train": n, "y_train": n, "x_test": n // 2, "y_test": n // 2}
        return _dataclasses.replace(data, **{
            name: getattr(data, name)[:size]
            for name, size in sizes.items() if getattr(data, name) is not None
        })
    return cut

_tv.load_dataset = _small(_tv.load_dataset, {n})
"""


def links(page):
    """The relative targets of ``[text](target)`` and ``![alt](target)`` in a page."""
    text = Path(page).read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # not inside code blocks
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [t for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_relative_link_and_image_resolves(page):
    folder = os.path.dirname(page)
    missing = [t for t in links(page) if not os.path.exists(os.path.join(folder, t.split("#")[0]))]
    assert not missing, f"{os.path.relpath(page, ROOT)} links to missing files: {missing}"


def python_blocks(page):
    """The page's Python blocks, a block that continues another joined to it."""
    text = Path(page).read_text(encoding="utf-8")
    blocks = []
    for block in re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M):
        if block.startswith(CONTINUES) and blocks:
            blocks[-1] += "\n" + block
        else:
            blocks.append(block)
    return blocks


BLOCKS = [(page, i, block) for page in PAGES for i, block in enumerate(python_blocks(page))]


@pytest.mark.parametrize(
    "page, index, block", BLOCKS, ids=[f"{os.path.relpath(p, ROOT)}-{i}" for p, i, _ in BLOCKS]
)
def test_every_python_block_runs_as_written(page, index, block, tmp_path):
    small = SMALL.search(block)
    code = block
    if small:
        code = PREAMBLE.replace("{n}", small[1].replace(",", "")) + block
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    where = f"{os.path.relpath(page, ROOT)}, Python block {index + 1}"
    assert result.returncode == 0, f"{where} failed:\n{result.stderr[-3000:]}"


def test_the_readme_is_an_index():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        assert len(f.readlines()) <= 250
