"""What a training step of M2 and of M1+M2 costs, and where the time goes.

    python benchmarks/semi_supervised_speed.py             # about a minute
    python benchmarks/semi_supervised_speed.py --repeats 50

An unlabelled example goes through the encoder and decoder once per class
(Kingma et al. 2014, eq. 7: the exact sum over the 10 labels), a labelled
one once, so an unlabelled step should cost about ten labelled ones. This
script times steps (loss, backward, Adam) of batches that are all labelled,
all unlabelled, and the demo's mix, on random binary images of MNIST's size
with the demo's networks, alternating the kinds so that drifts of a busy
machine hit each alike; it reports the median milliseconds per step and the
examples per second. Then it profiles the mixed step with cProfile and
groups the time by kind of work: matrix products (Linear), the softplus
activations and their derivative, the densities, and the rest.
"""

import cProfile
import os
import pstats
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

# which file of tinyvae each kind of work is done in
GROUPS = {
    "matrix products (nn/linear.py, labelled_linear.py)": ("linear.py", "labelled_linear.py"),
    "softplus and its derivative (nn/activations.py, functional.py)": (
        "activations.py",
        "functional.py",
    ),
    "densities, KL, categorical (distributions/)": (
        "gaussian.py",
        "bernoulli.py",
        "kl.py",
        "categorical.py",
        "reparameterize.py",
    ),
    "Adam (optim.py)": ("optim.py",),
}


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument(
        "--repeats", type=cli.integer(3), default=20, help="timed steps of each kind"
    )
    parser.add_argument(
        "--batch-size", type=cli.integer(1), default=100, help="examples per step of each kind"
    )
    parser.add_argument("--seed", type=cli.integer(0), default=0, help="seed of every draw")
    parser.add_argument("--json", default=None, help="also write the numbers to this file")
    return parser.parse_args(argv)


def models(rng):
    """The demo's M2 on images, and M1+M2 (M2 on z1 of an M1)."""
    m2 = tv.M2(784, hidden=(500,), z_dim=50, rng=rng)
    m1 = tv.VAE(784, hidden=(600, 600), z_dim=50, activation="softplus", rng=rng)
    m1m2 = tv.M2(50, hidden=(500,), z_dim=50, likelihood="gaussian", rng=rng)
    return {"M2": tv.SemiSupervised(m2, 50.0), "M1+M2": tv.SemiSupervised(m1m2, 50.0, features=m1)}


def step(objective, optimizer, x, labels, rng):
    objective.loss(x, rng=rng, labels=labels)
    optimizer.zero_grad()
    objective.backward()
    optimizer.step()


def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        if args.json is not None:
            cli.check_writable(os.path.dirname(os.path.abspath(args.json)))
        return run(args)


def run(args):
    rng = np.random.default_rng(args.seed)
    B = args.batch_size
    x = (rng.random((2 * B, 784)) < 0.3).astype(np.float32)
    kinds = {
        "labelled": (x[:B], np.arange(B) % 10),
        "unlabelled": (x[:B], np.full(B, -1)),
        "mixed (demo)": (x, np.r_[np.arange(B) % 10, np.full(B, -1)]),
    }
    results = {}
    for name, objective in models(rng).items():
        optimizer = tv.Adam(objective.parameters(), lr=1e-4)
        for batch, labels in kinds.values():  # warm up: first-call costs out of the timings
            step(objective, optimizer, batch, labels, rng)
        times = {kind: [] for kind in kinds}
        for _ in tqdm(range(args.repeats), desc=name, leave=False):
            for kind, (batch, labels) in kinds.items():
                started = time.perf_counter()
                step(objective, optimizer, batch, labels, rng)
                times[kind].append(time.perf_counter() - started)
        medians = {kind: statistics.median(t) for kind, t in times.items()}
        results[name] = {
            kind: {"ms_per_step": 1000 * s, "examples_per_s": len(kinds[kind][0]) / s}
            for kind, s in medians.items()
        }
        results[name]["unlabelled / labelled"] = medians["unlabelled"] / medians["labelled"]
        results[name]["profile"] = profile(objective, optimizer, *kinds["mixed (demo)"], rng)

    for name, numbers in results.items():
        print(f"\n{name}, batches of {B} (mixed: {B} labelled + {B} unlabelled)")
        for kind in kinds:
            n = numbers[kind]
            print(f"  {kind:13s} {n['ms_per_step']:7.1f} ms/step  {n['examples_per_s']:7.0f} ex/s")
        print(f"  an unlabelled step costs {numbers['unlabelled / labelled']:.1f} labelled ones")
        print("  where a mixed step's time goes:")
        for group, share in numbers["profile"].items():
            print(f"    {100 * share:5.1f}%  {group}")
    if args.json is not None:
        write_json(args.json, results)
    return results


def profile(objective, optimizer, x, labels, rng, steps=10):
    """Shares of the time of ``steps`` mixed steps, by the groups of ``GROUPS``."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step(objective, optimizer, x, labels, rng)
    profiler.disable()
    # (file, line, function) -> (calls, calls, own time, cumulative time, callers)
    stats = pstats.Stats(profiler).stats
    rest = "the rest (bookkeeping, concatenations, ...)"
    shares = dict.fromkeys([*GROUPS, rest], 0.0)

    def group_of(filename):
        name = os.path.basename(filename)
        return next((g for g, files in GROUPS.items() if name in files), rest)

    for (filename, _, _), (_, _, own, _, callers) in stats.items():
        if filename != "~":
            shares[group_of(filename)] += own
        else:  # a built-in such as np.concatenate or np.where: its callers' work
            for (caller_file, _, _), edge in callers.items():
                shares[group_of(caller_file)] += edge[2]
    total = sum(shares.values())
    return {group: seconds / total for group, seconds in shares.items()}


if __name__ == "__main__":
    main()
