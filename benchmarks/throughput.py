"""Training throughput of tinyvae against PyTorch eager, in the same run.

The pytorch/examples VAE configuration: 784-400-20, ReLU, Bernoulli
cross-entropy with logits plus analytic KL, Adam 1e-3, batch 128, float32,
on MNIST from $TINYVAE_DATA (or random data of the same shape without it).
Whole epochs are timed after a warm-up; tinyvae and PyTorch alternate epoch
by epoch with the same thread count, so both see the same machine state.

Also measured: the matmul floor (the step's matrix products alone, on
preallocated arrays), a breakdown of one training step into forward,
backward and optimizer, and the peak memory of a full training epoch in a
fresh process.

    python benchmarks/throughput.py                 # table on stdout
    python benchmarks/throughput.py --json out/throughput.json --repeats 5
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

import tinyvae as tv

BATCH, X_DIM, HIDDEN, Z_DIM = 128, 784, 400, 20


def load_training_data(seed):
    """MNIST grey levels if the files can be found offline, else uniform noise."""
    try:
        data = tv.load_dataset("mnist", download=False)
        return data.x_train, "MNIST"
    except FileNotFoundError:
        rng = np.random.default_rng(seed)
        return rng.uniform(size=(60000, X_DIM)).astype(np.float32), "random (MNIST shape)"


class TinyvaeRunner:
    def __init__(self, x, seed):
        self.x, self.rng = x, np.random.default_rng(seed)
        self.model = tv.VAE(X_DIM, (HIDDEN,), Z_DIM, rng=self.rng)
        self.opt = tv.Adam(self.model.parameters(), lr=1e-3)

    def step(self, x):
        self.model.loss(x, rng=self.rng)
        self.model.zero_grad()
        self.model.backward()
        self.opt.step()

    def epoch(self, limit=None):
        for i, x in enumerate(tv.batches(self.x, BATCH, self.rng)):
            if i == limit:
                break
            self.step(x)


class TorchRunner:
    def __init__(self, x, seed):
        import torch
        from pytorch_reference import TorchVAE, loss_sum

        torch.manual_seed(seed)
        self.torch, self.loss_sum = torch, loss_sum
        self.x = torch.from_numpy(x)
        self.rng = np.random.default_rng(seed)
        self.model = TorchVAE(X_DIM, HIDDEN, Z_DIM)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)

    def epoch(self, limit=None):
        order = self.torch.from_numpy(self.rng.permutation(len(self.x)))
        for i, start in enumerate(range(0, len(self.x), BATCH)):
            if i == limit:
                break
            x = self.x[order[start:start + BATCH]]
            loss = self.loss_sum(self.model, x) / len(x)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()


def examples_per_second(runner, n_examples, repeats_out):
    started = time.perf_counter()
    runner.epoch()
    seconds = time.perf_counter() - started
    repeats_out.append(n_examples / seconds)


def matmul_floor(repeats=200):
    """Seconds per step for the step's matrix products alone (float32).

    Forward: x W1, h W2 (to mu and logvar), z W3, h W4. Backward: the four
    weight gradients, and the input gradients of every layer but the first.
    """
    rng = np.random.default_rng(0)
    a = lambda *shape: rng.standard_normal(shape, dtype=np.float32)  # noqa: E731
    x, h, z = a(BATCH, X_DIM), a(BATCH, HIDDEN), a(BATCH, Z_DIM)
    W1, W2, W3, W4 = a(X_DIM, HIDDEN), a(HIDDEN, 2 * Z_DIM), a(Z_DIM, HIDDEN), a(HIDDEN, X_DIM)
    d_out, d_mu, d_h = a(BATCH, X_DIM), a(BATCH, 2 * Z_DIM), a(BATCH, HIDDEN)

    def products():
        x @ W1, h @ W2, z @ W3, h @ W4                                 # forward
        h.T @ d_out, d_out @ W4.T, z.T @ d_h, d_h @ W3.T               # decoder backward
        h.T @ d_mu, d_mu @ W2.T, x.T @ d_h                             # encoder backward

    for _ in range(20):
        products()
    started = time.perf_counter()
    for _ in range(repeats):
        products()
    return (time.perf_counter() - started) / repeats


def step_breakdown(runner, steps=200):
    """Seconds per step spent in the forward pass, the backward pass and Adam."""
    batches = [runner.x[i * BATCH:(i + 1) * BATCH] for i in range(steps)]
    totals = {"forward (loss)": 0.0, "backward": 0.0, "optimizer (Adam)": 0.0}
    model, opt, rng = runner.model, runner.opt, runner.rng
    for x in batches:
        t0 = time.perf_counter()
        model.loss(x, rng=rng)
        t1 = time.perf_counter()
        model.zero_grad()
        model.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        totals["forward (loss)"] += t1 - t0
        totals["backward"] += t2 - t1
        totals["optimizer (Adam)"] += t3 - t2
    return {key: value / steps for key, value in totals.items()}


def peak_memory_of_one_epoch():
    """Peak resident memory (MB) of a fresh process that loads data and trains an epoch."""
    code = ("import resource, sys; sys.path.insert(0, %r)\n"
            "from throughput import TinyvaeRunner, load_training_data\n"
            "x, _ = load_training_data(0)\n"
            "TinyvaeRunner(x, 0).epoch()\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
            % os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per framework")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if present")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory run")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()

    x, data_name = load_training_data(args.seed)
    runners = {"tinyvae": TinyvaeRunner(x, args.seed)}
    if not args.no_torch:
        try:
            runners["pytorch eager"] = TorchRunner(x, args.seed)
        except ImportError:
            print("PyTorch not importable: measuring tinyvae only (pip install torch)")
    threads = {"numpy (BLAS)": os.environ.get("OPENBLAS_NUM_THREADS", "default")}
    if "pytorch eager" in runners:
        threads["pytorch"] = runners["pytorch eager"].torch.get_num_threads()

    for runner in runners.values():          # warm-up: allocations, caches, BLAS threads
        runner.epoch(limit=50)
    rates = {name: [] for name in runners}
    for repeat in range(args.repeats):
        for name, runner in runners.items():
            examples_per_second(runner, len(x), rates[name])
            print(f"  repeat {repeat + 1}/{args.repeats}: {name:<14} "
                  f"{rates[name][-1]:8.0f} examples/s", flush=True)

    median = {name: float(np.median(values)) for name, values in rates.items()}
    floor = matmul_floor()
    breakdown = step_breakdown(runners["tinyvae"])
    step_seconds = BATCH / median["tinyvae"]
    results = {
        "machine": {"cpu": platform.processor() or platform.machine(),
                    "cores": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__, "threads": threads},
        "data": data_name,
        "examples_per_second": median,
        "all_repeats": rates,
        "ms_per_step": {name: 1000 * BATCH / rate for name, rate in median.items()},
        "matmul_floor_ms": 1000 * floor,
        "step_over_matmul_floor": step_seconds / floor,
        "step_breakdown_ms": {key: 1000 * value for key, value in breakdown.items()},
    }
    if "pytorch eager" in median:
        import torch
        results["machine"]["torch"] = torch.__version__
        results["speedup_over_pytorch"] = median["tinyvae"] / median["pytorch eager"]
    if not args.no_memory:
        results["peak_memory_mb"] = peak_memory_of_one_epoch()
        n_params = runners["tinyvae"].model.num_parameters()
        # float32 training set twice, plus parameters, gradients, Adam's m, v and scratch
        results["memory_budget_mb"] = (2 * x.nbytes + 5 * 4 * n_params) / 2**20

    print(f"\ndata: {data_name}; batch {BATCH}; threads: {threads}")
    print(f"{'':<28}{'examples/s':>12}{'ms/step':>10}")
    for name, rate in median.items():
        print(f"{name:<28}{rate:12.0f}{1000 * BATCH / rate:10.2f}")
    print(f"{'matmul floor':<28}{'':>12}{1000 * floor:10.2f}")
    for key, value in results["step_breakdown_ms"].items():
        print(f"  {key:<26}{'':>12}{value:10.2f}")
    if "speedup_over_pytorch" in results:
        print(f"tinyvae / pytorch eager throughput: {results['speedup_over_pytorch']:.2f}x")
    print(f"tinyvae step / matmul floor: {results['step_over_matmul_floor']:.2f}x")
    if "peak_memory_mb" in results:
        print(f"peak memory of one training epoch: {results['peak_memory_mb']:.0f} MB "
              f"(budget: 2 x training set + parameters and optimizer state = "
              f"{results['memory_budget_mb']:.0f} MB)")
    if args.json:
        from tinyvae.atomic import atomic_write
        with atomic_write(args.json) as f:
            f.write(json.dumps(results, indent=2).encode())


if __name__ == "__main__":
    main()
