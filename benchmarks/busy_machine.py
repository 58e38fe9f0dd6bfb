"""How long one training epoch takes on an idle and on a busy machine, under each
choice of NumPy's BLAS threads.

NumPy's matrix products run on OpenBLAS, which starts one thread per core.
Between products its idle threads spin, waiting for work; when other
programs keep the cores busy, the spinning threads and the training process
fight over them, and an epoch can take several times longer. tinyvae
therefore chooses the threads itself (tinyvae.threads): "auto", its default,
gives BLAS the cores that other processes leave free, measured before every
epoch; "keep" leaves OpenBLAS's default (one thread per core); "1" is one
thread.

    python benchmarks/busy_machine.py                 # MNIST, about 10 minutes
    python benchmarks/busy_machine.py --dataset synthetic --repeats 1

Each measurement is a fresh Python process that trains the default VAE of
demos/aevb/vae.py for one epoch with TINYVAE_BLAS_THREADS set to the setting; the
busy machine is simulated by --load processes that spin on the CPU. The runs
alternate, so slow drifts of the machine hit every setting alike; the table
gives the median seconds per epoch and the range.
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
from tinyvae.threads import ENVIRONMENT, USER_VARIABLES

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
tv.fit(model, optimizer, tv.Batches(data.x_train, binarize=True), epochs=1, rng=rng,
       progress=False)
print(time.perf_counter() - started)
"""


def spin():
    """Keep one core busy until terminated."""
    while True:
        pass


def one_epoch(dataset, data_dir, setting):
    """Seconds for one epoch in a fresh process under ``TINYVAE_BLAS_THREADS=setting``."""
    env = {k: v for k, v in os.environ.items() if k not in USER_VARIABLES}
    env[ENVIRONMENT] = setting
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
        help="measurements of each of the six settings",
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


SETTINGS = ("auto", "keep", "1")


def measure(args):
    """Time the six settings in turn, ``args.repeats`` times each; print the medians."""
    settings = [(busy, threads) for busy in (False, True) for threads in SETTINGS]
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
    print(f"{'machine':8s} {'BLAS threads':>14s} {'s / epoch':>10s}  range")
    rows = []
    for busy, threads in settings:
        runs = seconds[(busy, threads)]
        print(
            f"{'busy' if busy else 'idle':8s} {threads:>14s} {statistics.median(runs):10.1f}  "
            f"{min(runs):.1f}-{max(runs):.1f}"
        )
        rows.append({"busy": busy, "threads": threads, "seconds": runs})
    if args.out:
        write_json(args.out, {"dataset": args.dataset, "load": args.load, "runs": rows})


if __name__ == "__main__":
    main()
