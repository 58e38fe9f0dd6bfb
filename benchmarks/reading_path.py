"""How far a reader walks from one training step to the math: the measures of the redesign.

Traces one step of the README's training loop (a VAE trained by estimator B:
``model.loss`` + ``zero_grad`` + ``backward``) and reads the source, then prints:

  functions        distinct tinyvae functions the step enters, and in how many files
  before the bound tinyvae calls made before the estimator's own bound
                   (``SGVB_B.forward``) is entered
  computing lines  of the code lines of those functions, the share that compute (the
                   rest check arguments, keep caches or dispatch: see BOOKKEEPING below)
  fit              lines of ``fit``, its code lines (no docstring, comment or blank
                   line), its parameters, and its code lines naming one kind of training
  local imports    ``import`` statements inside functions in tinyvae/
  import time      ``import tinyvae`` in a fresh process (median of --repeats), beside
                   NumPy's alone, and which of matplotlib, pooch, requests it loads
  pair names       the shapes of the names of backward methods in tinyvae/
                   (``backward``, ``backward_X``, ``X_backward``, ...)

    python benchmarks/reading_path.py
    python benchmarks/reading_path.py --json out/reading-path.json

A script, not a test: the numbers describe the code, they are not limits.
"""

import ast
import inspect
import os
import re
import statistics
import subprocess
import sys
import textwrap

# This clone's tinyvae, even when Python starts in the folder that holds the clone:
# see "Running from the folder above a clone" in tinyvae/cli.py.
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

import tinyvae as tv
from tinyvae import cli
from tinyvae.files import write_json

PACKAGE = os.path.dirname(os.path.abspath(tv.__file__))
# A line is bookkeeping, not computation, if its function's name matches the first
# (validators, cache keeping, objects built per call, noise drawing), or if the line
# itself matches the second (checks, caches, dispatch). A heuristic, the same before
# and after a change, so that the share compares.
BOOKKEEPING_FUNCTIONS = re.compile(
    r"check|_got|pending|cache|_pop|resolve|make_objective|__init__|noise|settings|"
    r"^save$|^take"
)
BOOKKEEPING = re.compile(
    r"\bcheck_|\braise\b|isinstance|\bcache\b|_cache|pending|\bsaved\b|getattr|hasattr|"
    r"resolve_|make_objective|ESTIMATORS|estimator|\.save\(|\.take\(|\bparts\b"
)
# Words that name one kind of training, counted in fit's code lines.
KINDS = re.compile(
    r"\blabels?\b|labelled|estimator|baseline|weight_prior|supervised|scale_to_dataset|"
    r"n_samples|alpha|n_train"
)
HEAVY = ("matplotlib", "pooch", "requests")


def one_step():
    """The README's loop, one step: a VAE on a batch of 128 binarized images."""
    rng = np.random.default_rng(0)
    model = tv.VAE(x_dim=784, hidden=(400,), z_dim=20, activation="relu", rng=rng)
    x = (rng.uniform(size=(128, 784)) > 0.5).astype(np.float32)

    def step():
        model.loss(x, rng=rng)
        model.zero_grad()
        model.backward()

    return step


def trace(step):
    """``(functions, calls before SGVB_B.forward)`` of ``step()``; functions by code object."""
    functions, order = {}, []

    def profile(frame, event, arg):
        code = frame.f_code
        if event == "call" and code.co_filename.startswith(PACKAGE):
            functions[code.co_filename, code.co_qualname] = code
            order.append(code.co_qualname)

    sys.setprofile(profile)
    try:
        step()
    finally:
        sys.setprofile(None)
    before = order.index("SGVB_B.forward") if "SGVB_B.forward" in order else len(order)
    return functions, before


def computing_share(functions):
    """``(share, lines)``: of the code lines of the functions entered (the lines that hold
    bytecode: no docstring, comment or blank line), the share not matching BOOKKEEPING."""
    sources, lines, computing = {}, 0, 0
    for (filename, qualname), code in functions.items():
        if filename not in sources:
            with open(filename) as file:
                sources[filename] = file.read().splitlines()
        body = {line for _, _, line in code.co_lines() if line and line > code.co_firstlineno}
        lines += len(body)
        if not BOOKKEEPING_FUNCTIONS.search(qualname.rsplit(".", 1)[-1]):
            computing += sum(not BOOKKEEPING.search(sources[filename][n - 1]) for n in body)
    return computing / max(lines, 1), lines


def code_lines(function):
    """The code lines of ``function``: no docstring, comment or blank line."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    body = tree.body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    source = textwrap.dedent(inspect.getsource(function)).splitlines()
    first, last = body[0].lineno, body[-1].end_lineno
    code = [line for line in source[first - 1 : last] if line.strip()]
    return [line for line in code if not line.strip().startswith("#")]


def local_imports():
    """``[(file, line)]`` of every import statement inside a function in tinyvae/."""
    found = []
    for folder, _, files in os.walk(PACKAGE):
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            with open(path) as file:
                tree = ast.parse(file.read())
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for inner in ast.walk(node):
                        if isinstance(inner, (ast.Import, ast.ImportFrom)):
                            found.append((os.path.relpath(path, PACKAGE), inner.lineno))
    return sorted(set(found))


def pair_names():
    """The shapes of tinyvae's backward method names, each with an example."""
    shapes = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in sorted(files):
            if name.endswith(".py") and "exercises" not in folder:
                with open(os.path.join(folder, name)) as file:
                    for method in re.findall(r"def (\w*backward\w*)\(", file.read()):
                        shape = re.sub(r"[a-z0-9]+(?=_backward)", "X", method)
                        shape = re.sub(r"(?<=backward_)[a-z0-9_]+", "X", shape)
                        shapes.setdefault(shape, method)
    return shapes


def import_seconds(module, repeats):
    """Median seconds of ``import module`` in a fresh process, and the heavy modules it loads."""
    code = (
        f"import sys, time; t = time.perf_counter(); import {module}; "
        f"print(time.perf_counter() - t); print(' '.join(m for m in {HEAVY} if m in sys.modules))"
    )
    times, loaded = [], ""
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        times.append(float(out[0]))
        loaded = out[1] if len(out) > 1 else ""
    return statistics.median(times), loaded.split()


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument(
        "--repeats", type=cli.integer(1), default=5, help="fresh processes per import timing"
    )
    parser.add_argument("--json", default=None, help="also write the numbers to this JSON file")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        if args.json:
            cli.check_writable(os.path.dirname(os.path.abspath(args.json)))
        measure(args)


def measure(args):
    functions, before = trace(one_step())
    files = {filename for filename, _ in functions}
    share, n_lines = computing_share(functions)
    fit_total = len(inspect.getsourcelines(tv.fit)[0])
    fit_lines = code_lines(tv.fit)
    # The named parameters; **deprecated takes tinyvae 0.2's keywords, with a warning.
    fit_parameters = sum(
        p.kind is not p.VAR_KEYWORD for p in inspect.signature(tv.fit).parameters.values()
    )
    kinds = [line for line in fit_lines if KINDS.search(line)]
    imports = local_imports()
    seconds, heavy = import_seconds("tinyvae", args.repeats)
    numpy_seconds, _ = import_seconds("numpy", args.repeats)
    shapes = pair_names()
    rows = [
        (
            "distinct tinyvae functions entered by one step",
            f"{len(functions)} in {len(files)} files",
        ),
        ("tinyvae calls before SGVB_B.forward", str(before)),
        ("share of the step's code lines that compute", f"{share:.0%} of {n_lines}"),
        (
            "fit: lines (code lines) / named parameters",
            f"{fit_total} ({len(fit_lines)}) / {fit_parameters}",
        ),
        ("fit's code lines naming one kind of training", str(len(kinds))),
        ("function-local imports in tinyvae/", str(len(imports))),
        (
            "import tinyvae (NumPy alone)",
            f"{seconds:.2f} s ({numpy_seconds:.2f} s), loads {', '.join(heavy) or 'none of'} "
            f"{'' if heavy else ', '.join(HEAVY)}".rstrip(),
        ),
        ("shapes of backward names", f"{len(shapes)}: {', '.join(sorted(shapes.values()))}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("\nfunction-local imports:", ", ".join(f"{f}:{n}" for f, n in imports) or "none")
    if args.json:
        write_json(
            args.json,
            {
                "functions": sorted(f"{os.path.relpath(f, PACKAGE)}:{q}" for f, q in functions),
                "files": len(files),
                "calls_before_bound": before,
                "computing_share": share,
                "code_lines_of_the_step": n_lines,
                "fit_lines": fit_total,
                "fit_code_lines": len(fit_lines),
                "fit_parameters": fit_parameters,
                "fit_kind_lines": kinds,
                "local_imports": [f"{f}:{n}" for f, n in imports],
                "import_seconds": seconds,
                "numpy_import_seconds": numpy_seconds,
                "heavy_modules_loaded": heavy,
                "backward_name_shapes": shapes,
            },
        )


if __name__ == "__main__":
    main()
