"""How long one training epoch takes on an idle and on a busy machine, with and without
OpenBLAS's worker threads.

NumPy's matrix products run on OpenBLAS, which starts one thread per core.
Between products its idle threads spin, waiting for work; when other
programs keep the cores busy, the spinning threads and the training process
fight over them, and an epoch can take several times longer. Setting
OPENBLAS_NUM_THREADS=1 before Python starts avoids the fight.

    python benchmarks/busy_machine.py                 # MNIST, about 5 minutes
    python benchmarks/busy_machine.py --dataset synthetic --repeats 1

Each measurement is a fresh Python process (the variable is read when NumPy
loads) that trains the default VAE of demos/vae.py for one epoch; the busy
machine is simulated by --load processes that spin on the CPU. The runs
alternate, so slow drifts of the machine hit every setting alike; the table
gives the median seconds per epoch.
"""

import multiprocessing
import os
import statistics
import subprocess
import sys
import time

# This clone's tinyvae, even when Python starts in the folder that holds the clone:
# see "Running from the folder above a clone" in tinyvae/cli.py.
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tqdm.auto import tqdm

from tinyvae import cli
from tinyvae.data.datasets import load_dataset
from tinyvae.files import write_json

# The measured child: trains one epoch and prints its seconds (argv: dataset, data_dir).
CHILD = """
import sys, time
import numpy as np
import tinyvae as tv
from tinyvae.data.datasets import load_dataset
data = load_dataset(sys.argv[1], data_dir=sys.argv[2] or None)
rng = np.random.default_rng(0)
model = tv.VAE(data.x_train.shape[1], hidden=(400,), z_dim=20, rng=rng)
optimizer = tv.Adam(model.parameters(), lr=1e-3)
started = time.perf_counter()
tv.fit(model, optimizer, data.x_train, epochs=1, rng=rng, binarize=True, progress=False,
       verbose=False)
print(time.perf_counter() - started)
"""


def spin():
    """Keep one core busy until terminated."""
    while True:
        pass


def one_epoch(dataset, data_dir, threads):
    """Seconds for one epoch in a fresh process; ``threads=None`` keeps OpenBLAS's default."""
    env = dict(os.environ)
    env.pop("OPENBLAS_NUM_THREADS", None)
    if threads is not None:
        env["OPENBLAS_NUM_THREADS"] = str(threads)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, dataset, data_dir or ""],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the timed training process failed:\n{result.stderr.strip()}")
    return float(result.stdout.strip().splitlines()[-1])


def parse_args(argv=None):
    parser = cli.parser(__doc__)
    parser.add_argument(
        "--dataset",
        default="mnist",
        choices=["mnist", "synthetic"],
        help="training set of the timed epoch (60,000 images either way)",
    )
    parser.add_argument("--data-dir", default=None, help=cli.DATA_DIR_HELP)
    parser.add_argument(
        "--repeats",
        type=cli.integer(1),
        default=3,
        help="measurements of each of the four settings",
    )
    parser.add_argument(
        "--load",
        type=cli.integer(1),
        default=os.cpu_count() or 2,
        help="processes spinning on the CPU to make the machine busy (one per core)",
    )
    parser.add_argument("--out", default=None, help="also write the numbers to this JSON file")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with cli.user_errors():
        if args.out:
            cli.check_writable(os.path.dirname(os.path.abspath(args.out)))
        load_dataset(args.dataset, data_dir=args.data_dir)  # the data is there before timing
        measure(args)


def measure(args):
    """Time the four settings in turn, ``args.repeats`` times each; print the medians."""
    settings = [(busy, threads) for busy in (False, True) for threads in (None, 1)]
    seconds = {setting: [] for setting in settings}
    with tqdm(total=args.repeats * len(settings), desc="epochs", unit="epoch") as bar:
        for _ in range(args.repeats):
            for busy, threads in settings:
                spinners = []
                if busy:
                    spinners = [multiprocessing.Process(target=spin) for _ in range(args.load)]
                    for p in spinners:
                        p.start()
                    time.sleep(0.5)
                try:
                    seconds[(busy, threads)].append(one_epoch(args.dataset, args.data_dir, threads))
                finally:
                    for p in spinners:
                        p.terminate()
                        p.join()
                bar.update()

    print(
        f"\none epoch of the default VAE on {args.dataset}, median of {args.repeats} "
        f"({os.cpu_count()} cores; busy = {args.load} spinning processes)"
    )
    print(f"{'machine':8s} {'OpenBLAS threads':>17s} {'s / epoch':>10s}")
    rows = []
    for busy, threads in settings:
        median = statistics.median(seconds[(busy, threads)])
        label = "default" if threads is None else str(threads)
        print(f"{'busy' if busy else 'idle':8s} {label:>17s} {median:10.1f}")
        rows.append({"busy": busy, "threads": label, "seconds": seconds[(busy, threads)]})
    if args.out:
        write_json(args.out, {"dataset": args.dataset, "load": args.load, "runs": rows})


if __name__ == "__main__":
    main()
