"""What a training step costs with an IAF posterior or two stochastic layers, against the diagonal.

    python benchmarks/iaf_speed.py                 # about a minute
    python benchmarks/iaf_speed.py --repeats 100

The models of demos/deeper/deeper_models.py (784-200-200-50 tanh; IAF steps of a
MADE with 200 ELU units and a context of 50; Burda et al.'s two-layer model)
each take training steps (estimator A: loss, backward, Adam) on the same
random binary batch of MNIST's size. The models alternate step by step so
that the drifts of a busy machine hit each alike; the script reports the
median milliseconds per step and its ratio to the diagonal model's.
Every IAF step works on the whole batch at once: its MADE is three matrix
products, with no loop over the latent dimensions.
"""

import os
import statistics
import sys
import time

# This clone's tinyvae, even when Python starts in the folder that holds the clone:
# see "Running from the folder above a clone" in tinyvae/cli.py.
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np
from tqdm.auto import tqdm

import tinyvae as tv
from tinyvae import cli
from tinyvae.files import write_json

MODELS = ("diagonal", "iaf-1", "iaf-2", "iaf-4", "iaf-8", "two-layer")


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument(
        "--repeats", type=cli.integer(3), default=300, help="timed steps of each model"
    )
    parser.add_argument("--batch-size", type=cli.integer(1), default=100, help="examples per step")
    parser.add_argument("--seed", type=cli.integer(0), default=0, help="seed of every draw")
    parser.add_argument("--json", default=None, help="also write the numbers to this file")
    return parser.parse_args(argv)


def make_model(name, rng):
    if name == "two-layer":
        return tv.HierarchicalVAE(784, (200, 200), 100, (100, 100), 50, "tanh", rng=rng)
    steps = int(name.split("-")[1]) if name.startswith("iaf") else 0
    return tv.VAE(
        784, (200, 200), 50, "tanh", rng=rng, estimator="A",
        iaf_steps=steps, iaf_hidden=(200,), iaf_context=50,
    )  # fmt: skip


def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        if args.json is not None:
            cli.check_writable(os.path.dirname(os.path.abspath(args.json)))
        return run(args)


def run(args):
    rng = np.random.default_rng(args.seed)
    x = (rng.random((args.batch_size, 784)) < 0.3).astype(np.float32)
    runs = {}
    for name in MODELS:
        model = make_model(name, rng)
        objective = tv.make_objective(model, "A")
        runs[name] = (objective, tv.Adam(objective.parameters(), lr=1e-4))

    def step(name):
        objective, optimizer = runs[name]
        objective.loss(x, rng=rng)
        optimizer.zero_grad()
        objective.backward()
        optimizer.step()

    for name in MODELS:  # warm up: first-call costs out of the timings
        step(name)
    times = {name: [] for name in MODELS}
    for _ in tqdm(range(args.repeats), desc="steps", leave=False):
        for name in MODELS:
            started = time.perf_counter()
            step(name)
            times[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(t) for name, t in times.items()}
    results = {
        name: {
            "ms_per_step": 1000 * medians[name],
            "relative_to_diagonal": medians[name] / medians["diagonal"],
            "parameters": runs[name][0].model.num_parameters(),
        }
        for name in MODELS
    }
    print(f"training steps of {args.batch_size} examples, estimator A, median of {args.repeats}")
    for name, n in results.items():
        print(
            f"  {name:10s} {n['ms_per_step']:6.1f} ms/step  "
            f"{n['relative_to_diagonal']:4.2f} x diagonal  {n['parameters']:,} parameters"
        )
    if args.json is not None:
        write_json(args.json, results)
    return results


if __name__ == "__main__":
    main()
