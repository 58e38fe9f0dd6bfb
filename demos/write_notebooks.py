"""Write each chapter's notebook as an .ipynb file, with nothing but Python's standard library.

The notebooks are kept as plain-text scripts in jupytext's percent format
(``demos/<chapter>/notebook.py``): a ``# %%`` line starts a code cell, a
``# %% [markdown]`` line a text cell whose lines start with ``# ``. With
jupytext installed (``pip install -e ".[notebooks]"``) Jupyter opens them as
they are; without it,

    python demos/write_notebooks.py                 # writes notebooks/<chapter>.ipynb
    python demos/write_notebooks.py --out somewhere

writes ordinary notebooks (without outputs) that any Jupyter opens.
"""

import argparse
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CELL = re.compile(r"^# %%(?P<title>[^\[]*)(?:\[(?P<kind>\w+)\])?.*$")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        default="notebooks",
        help="folder to write <chapter>.ipynb into (default: ./notebooks; created if missing)",
    )
    return parser.parse_args(argv)


def cells(text):
    """The cells of a percent-format script: a list of (kind, source lines)."""
    lines = text.splitlines()
    if lines and lines[0] == "# ---":  # the header, jupytext's metadata: not a cell
        end = lines.index("# ---", 1)
        lines = lines[end + 1 :]
    found = []
    for line in lines:
        match = CELL.match(line)
        if match:
            found.append(("markdown" if match["kind"] == "markdown" else "code", []))
        elif found:
            found[-1][1].append(line)
    result = []
    for kind, body in found:
        while body and not body[-1].strip():  # blank lines between cells belong to neither
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        if kind == "markdown":  # "# text" -> "text", a bare "#" -> an empty line
            body = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in body]
        result.append((kind, body))
    return result


def notebook(text):
    """An nbformat-4 notebook (a dict) of a percent-format script."""

    def cell(number, kind, body):
        source = [line + "\n" for line in body[:-1]] + body[-1:]
        common = {"id": f"cell-{number}", "metadata": {}, "source": source}  # ids: nbformat 4.5
        if kind == "markdown":
            return {"cell_type": "markdown", **common}
        return {"cell_type": "code", "execution_count": None, "outputs": [], **common}

    return {
        "cells": [cell(i, kind, body) for i, (kind, body) in enumerate(cells(text))],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def main(argv=None):
    args = parse_args(argv)
    scripts = sorted(glob.glob(os.path.join(HERE, "*", "notebook.py")))
    if not scripts:
        sys.exit(f"error: no demos/<chapter>/notebook.py under {HERE}")
    os.makedirs(args.out, exist_ok=True)
    for script in scripts:
        chapter = os.path.basename(os.path.dirname(script))
        with open(script, encoding="utf-8") as f:
            book = notebook(f.read())
        target = os.path.join(args.out, f"{chapter}.ipynb")
        with open(target + ".tmp", "w", encoding="utf-8") as f:
            json.dump(book, f, indent=1, ensure_ascii=False)
            f.write("\n")
        os.replace(target + ".tmp", target)  # a half-written notebook never replaces one
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
