"""Training throughput of tinyvae against PyTorch, eager and compiled, in the same run.

The pytorch/examples VAE configuration: 784-400-20, ReLU, Bernoulli
cross-entropy with logits plus analytic KL, Adam 1e-3, batch 128, float32,
on MNIST from $TINYVAE_DATA (or random data of the same shape without it).

Each framework trains in its own worker process, and they take turns
epoch by epoch, so all see the same machine state. They run in separate
processes because two thread pools in one process fight over the cores:
after a PyTorch epoch had run in the same process, NumPy's matrix products
took 30% longer, and PyTorch was 40% slower than on its own. Both use their
default thread counts.

Whole epochs are timed after a warm-up epoch. Then each worker reports:
  * the matmul floor: the step's matrix products alone, on preallocated arrays;
  * the peak memory of its process after the training epochs;
  * the cost of evaluating L_5000, the importance-weighted bound with 5000
    samples, per test example;
and the tinyvae worker a profile of its training step (cProfile) split by
module, and Adam's step timed alone against one pass over the parameters.

    python benchmarks/throughput.py                 # table on stdout
    python benchmarks/throughput.py --json out/throughput.json --repeats 5
"""

import cProfile
import importlib.util
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import time

# This clone's tinyvae, even when Python starts in the folder that holds the clone:
# see "Running from the folder above a clone" in tinyvae/cli.py. (A --baseline
# worker's PYTHONPATH comes before this, so it imports the other checkout's.)
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

import tinyvae as tv

BATCH, X_DIM, HIDDEN, Z_DIM = 128, 784, 400, 20


def load_data(seed):
    """MNIST grey levels (train, test) if the files can be found offline, else noise."""
    try:
        data = tv.load_dataset("mnist", download=False)
        return data.x_train, data.x_test, "MNIST"
    except FileNotFoundError:
        rng = np.random.default_rng(seed)
        noise = lambda n: rng.random((n, X_DIM), dtype=np.float32)  # noqa: E731
        return noise(60000), noise(10000), "random (MNIST shape)"


def peak_memory_mb():
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seconds_per_call(function, repeats, warmup=20):
    for _ in range(warmup):
        function()
    started = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - started) / repeats


def matmul_operands(array):
    """The operands of one training step's matrix products, made by ``array(shape)``.

    Forward: x W1, h W2 (to mu and logvar), z W3, h W4. Backward: the four
    weight gradients, and the input gradients of every layer but the first
    (nobody needs the gradient of the data). Transposes are views, as in the step.
    """
    x, h, z = array((BATCH, X_DIM)), array((BATCH, HIDDEN)), array((BATCH, Z_DIM))
    d_out, d_h, d_mu_logvar = (
        array((BATCH, X_DIM)),
        array((BATCH, HIDDEN)),
        array((BATCH, 2 * Z_DIM)),
    )
    W1, W2 = array((X_DIM, HIDDEN)), array((HIDDEN, 2 * Z_DIM))
    W3, W4 = array((Z_DIM, HIDDEN)), array((HIDDEN, X_DIM))
    forward = [(x, W1), (h, W2), (z, W3), (h, W4)]
    decoder_backward = [(h.T, d_out), (d_out, W4.T), (z.T, d_h), (d_h, W3.T)]
    encoder_backward = [(h.T, d_mu_logvar), (d_mu_logvar, W2.T), (x.T, d_h)]
    return forward + decoder_backward + encoder_backward


# -- the two workers -----------------------------------------------------------
class TinyvaeWorker:
    name = "tinyvae"

    def __init__(self, x_train, x_test, seed):
        self.x_train, self.x_test = x_train, x_test
        self.rng = np.random.default_rng(seed)
        self.model = tv.VAE(X_DIM, (HIDDEN,), Z_DIM, rng=self.rng)
        self.opt = tv.Adam(self.model.parameters(), lr=1e-3)
        # the step of tinyvae.fit: estimator B as an objective (a 0.1 baseline has none)
        self.objective = tv.SGVB_B(self.model) if hasattr(tv, "SGVB_B") else self.model
        self.zero_grad = getattr(self.opt, "zero_grad", self.model.zero_grad)

    def step(self, x):
        self.objective.loss(x, rng=self.rng)
        self.zero_grad()
        self.objective.backward()
        self.opt.step()

    def epoch(self, limit=None):
        for i, x in enumerate(tv.batches(self.x_train, BATCH, self.rng)):
            if i == limit:
                break
            self.step(x)

    def matmul_floor(self, repeats=200):
        rng = np.random.default_rng(0)
        operands = matmul_operands(lambda shape: rng.standard_normal(shape, dtype=np.float32))

        def products():
            for a, b in operands:
                a @ b

        return seconds_per_call(products, repeats)

    def evaluate(self, x, k):
        tv.log_likelihood(self.model, x, k=k, rng=self.rng)

    def profile(self, steps=200):
        """Milliseconds per step by part of the code, from cProfile's cumulative times."""
        batches = [self.x_train[i * BATCH : (i + 1) * BATCH] for i in range(steps)]
        profiler = cProfile.Profile()
        profiler.enable()
        for x in batches:
            self.step(x)
        profiler.disable()
        stats = pstats.Stats(profiler).stats
        cumulative = {}
        for (filename, _, function), (_, _, _, cumtime, _) in stats.items():
            key = (os.path.basename(filename), function)
            cumulative[key] = cumulative.get(key, 0.0) + cumtime

        def both(file):
            return cumulative.get((file, "forward"), 0.0) + cumulative.get((file, "backward"), 0.0)

        parts = {
            "Linear layers (matmuls, bias)": both("linear.py"),
            "Bernoulli likelihood": both("bernoulli.py"),
            "ReLU": both("activations.py"),
            "KL and reparameterization": both("kl.py") + both("reparameterize.py"),
            "zero_grad": cumulative.get(("optim.py", "zero_grad"), 0.0)
            + cumulative.get(("module.py", "zero_grad"), 0.0),
            "Adam": cumulative[("optim.py", "step")],
        }
        step = cumulative[("throughput.py", "step")]
        parts["the rest (sampling, input checks, glue)"] = step - sum(parts.values())
        return {key: 1000 * value / steps for key, value in parts.items()}

    def optimizer_cost(self, repeats=200):
        """Adam's step alone, against one in-place pass over every parameter (ms).

        Adam reads and writes about 14 parameter-sized arrays' worth of memory
        per step, so the ratio says how close it runs to that many passes.
        The model and optimizer are restored afterwards.
        """
        model_state, opt_state = self.model.state_dict(), self.opt.state_dict()
        params = [param for _, param, _ in self.model.parameters()]
        one_pass = seconds_per_call(lambda: [np.multiply(p, 1.0, out=p) for p in params], repeats)
        adam = seconds_per_call(self.opt.step, repeats)
        self.model.load_state_dict(model_state)
        self.opt.load_state_dict(opt_state)
        return {"adam_alone_ms": 1000 * adam, "parameter_pass_ms": 1000 * one_pass}


class TorchWorker:
    """PyTorch eager, or with ``compiled=True`` the loss and its backward through
    ``torch.compile`` (the first steps, in the warm-up, pay for compilation)."""

    def __init__(self, x_train, x_test, seed, compiled=False):
        import torch
        from torch_vae import TorchVAE, iwae_bound, loss_sum

        torch.manual_seed(seed)
        self.torch, self.iwae_bound = torch, iwae_bound
        self.x_train, self.x_test = torch.from_numpy(x_train), torch.from_numpy(x_test)
        self.rng = np.random.default_rng(seed)
        self.model = TorchVAE(X_DIM, HIDDEN, Z_DIM)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss_sum = torch.compile(loss_sum) if compiled else loss_sum

    def epoch(self, limit=None):
        order = self.torch.from_numpy(self.rng.permutation(len(self.x_train)))
        for i, start in enumerate(range(0, len(self.x_train), BATCH)):
            if i == limit:
                break
            x = self.x_train[order[start : start + BATCH]]
            loss = self.loss_sum(self.model, x) / len(x)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()

    def matmul_floor(self, repeats=200):
        torch = self.torch
        operands = matmul_operands(lambda shape: torch.randn(shape))

        def products():
            for a, b in operands:
                a @ b

        with torch.no_grad():
            return seconds_per_call(products, repeats)

    def evaluate(self, x, k):
        self.iwae_bound(self.model, self.torch.from_numpy(x), k)


def worker_main(name, seed, eval_examples):
    """Serve the parent: one JSON line per command read from stdin."""
    x_train, x_test, data_name = load_data(seed)
    if name.startswith("tinyvae"):
        worker = TinyvaeWorker(x_train, x_test, seed)
    else:
        worker = TorchWorker(x_train, x_test, seed, compiled=name == "pytorch compiled")
    # A whole epoch of warm-up: allocations, caches, thread pools, and for
    # torch.compile both batch sizes (60000 = 468 x 128 + 96) compiled.
    worker.epoch()
    threads = (
        {"pytorch": worker.torch.get_num_threads()}
        if not name.startswith("tinyvae")
        else {
            "numpy (OpenBLAS)": os.environ.get("OPENBLAS_NUM_THREADS")
            or os.environ.get("OMP_NUM_THREADS")
            or "one per core"
        }
    )
    reply = lambda message: print(json.dumps(message), flush=True)  # noqa: E731
    reply({"data": data_name, "threads": threads, "n_train": len(x_train)})
    for command in sys.stdin:
        command = command.strip()
        if command == "epoch":
            started = time.perf_counter()
            worker.epoch()
            reply({"seconds": time.perf_counter() - started})
        elif command == "report":
            report = {"peak_memory_mb": peak_memory_mb()}  # before evaluation adds its own
            report["matmul_floor_ms"] = 1000 * worker.matmul_floor()
            if name != "pytorch compiled":  # whose evaluation is not compiled: eager's
                started = time.perf_counter()
                worker.evaluate(x_test[:eval_examples], k=5000)
                seconds = time.perf_counter() - started
                report["eval_ms_per_example"] = 1000 * seconds / eval_examples
            if name == "tinyvae":
                report["profile_ms"] = worker.profile()
                report.update(worker.optimizer_cost())
                n_params = worker.model.num_parameters()
                # the target: twice the float32 training set, plus the parameters and
                # the optimizer's state (Adam's m and v), 4 bytes per number
                report["memory_budget_mb"] = (2 * x_train.nbytes + 3 * 4 * n_params) / 2**20
            reply(report)
        else:
            raise SystemExit(f"unknown command {command!r}")


# -- the parent: alternate the workers, then print the table --------------------
class Worker:
    def __init__(self, name, seed, eval_examples, baseline=None):
        script = os.path.abspath(__file__)
        env = dict(os.environ)
        if name == "tinyvae baseline":  # import tinyvae from the other checkout
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [baseline, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, script, "--worker", name, str(seed), str(eval_examples)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=os.path.dirname(script),
            env=env,
        )
        self.hello = self._read()

    def _read(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark worker exited with code {self.process.wait()}")
        return json.loads(line)

    def ask(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def print_table(results):
    names = list(results["examples_per_second"])
    print(
        f"\ndata: {results['data']}; batch {BATCH}; "
        f"{results['machine']['cores']} cores; threads: {results['threads']}"
    )
    print(f"{'':<34}" + "".join(f"{name:>18}" for name in names))
    rows = [
        ("training examples/s", results["examples_per_second"], "{:.0f}"),
        ("ms per step", results["ms_per_step"], "{:.2f}"),
        ("matmul floor, ms per step", results["matmul_floor_ms"], "{:.2f}"),
        ("step / matmul floor", results["step_over_matmul_floor"], "{:.2f}x"),
        ("peak memory, MB", results["peak_memory_mb"], "{:.0f}"),
        ("L_5000 evaluation, ms/example", results["eval_ms_per_example"], "{:.1f}"),
    ]
    for label, values, form in rows:
        cells = ("-" if values[n] is None else form.format(values[n]) for n in names)
        print(f"{label:<34}" + "".join(f"{cell:>18}" for cell in cells))
    print()
    for name, ratio in results["tinyvae_speedup"].items():
        print(
            f"tinyvae / {name} training throughput: {ratio:.2f}x "
            "(median over rounds of the ratio of epoch times)"
        )
    print(
        f"tinyvae peak memory target (2 x training set + parameters + Adam's m and v): "
        f"{results['memory_budget_mb']:.0f} MB"
    )
    print("\ntinyvae step by profiler (cProfile, which adds its own overhead):")
    for key, value in results["tinyvae_profile_ms"].items():
        print(f"  {key:<52}{value:6.2f} ms")
    adam, one_pass = results["tinyvae_adam_alone_ms"], results["tinyvae_parameter_pass_ms"]
    print(
        f"Adam alone: {adam:.2f} ms, the time of {adam / one_pass:.1f} in-place passes "
        f"over the parameters ({one_pass:.3f} ms each)"
    )


def parse_args(argv=None):
    # Imported here, in the parent only: a --baseline worker imports an older
    # tinyvae, which may have no cli module.
    from tinyvae import cli

    parser = cli.parser(__doc__)
    parser.add_argument(
        "--repeats", type=cli.integer(1), default=3, help="timed epochs per framework"
    )
    parser.add_argument("--seed", type=cli.integer(0), default=0, help="seed of every random draw")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if present")
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="skip torch.compile (its compilation takes about half a minute)",
    )
    parser.add_argument(
        "--eval-examples",
        type=cli.integer(1, 10000),
        default=20,
        help="test examples for timing the L_5000 evaluation",
    )
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument(
        "--baseline",
        default=None,
        metavar="DIR",
        help="also time the tinyvae of another checkout (e.g. a git worktree of an "
        "older commit) in the same alternating run",
    )
    args = parser.parse_args(argv)
    if args.baseline:
        if not os.path.isfile(os.path.join(args.baseline, "tinyvae", "__init__.py")):
            parser.error(f"--baseline {args.baseline}: no tinyvae/ package in that folder")
        args.baseline = os.path.abspath(args.baseline)
    return args


def main(argv=None):
    from tinyvae import cli  # in the parent only, as in parse_args

    args = parse_args(argv)
    with cli.user_errors():
        if args.json:
            cli.check_writable(os.path.dirname(args.json) or ".")
        return measure(args)


def measure(args):
    """Alternate the workers epoch by epoch, then print (and save) the table."""
    names = ["tinyvae"]
    if args.baseline:
        names.append("tinyvae baseline")
    if args.no_torch:
        pass
    elif importlib.util.find_spec("torch") is None:
        print("PyTorch not importable: measuring tinyvae only (pip install torch==2.13.0)")
    else:
        names.append("pytorch eager")
        if not args.no_compile:
            names.append("pytorch compiled")
    workers = {name: Worker(name, args.seed, args.eval_examples, args.baseline) for name in names}
    hello = workers["tinyvae"].hello

    seconds = {name: [] for name in names}
    for repeat in range(args.repeats):
        for name, worker in workers.items():
            seconds[name].append(worker.ask("epoch")["seconds"])
            print(
                f"  epoch {repeat + 1}/{args.repeats}: {name:<14}"
                f"{hello['n_train'] / seconds[name][-1]:8.0f} examples/s",
                flush=True,
            )
    reports = {name: worker.ask("report") for name, worker in workers.items()}
    for worker in workers.values():
        worker.close()

    median = {name: float(np.median(values)) for name, values in seconds.items()}
    steps_per_epoch = -(-hello["n_train"] // BATCH)
    ms_per_step = {name: 1000 * value / steps_per_epoch for name, value in median.items()}
    results = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "data": hello["data"],
        "threads": {k: v for w in workers.values() for k, v in w.hello["threads"].items()},
        "epoch_seconds": seconds,
        "examples_per_second": {n: hello["n_train"] / value for n, value in median.items()},
        "ms_per_step": ms_per_step,
        "matmul_floor_ms": {n: reports[n]["matmul_floor_ms"] for n in names},
        "step_over_matmul_floor": {
            n: ms_per_step[n] / reports[n]["matmul_floor_ms"] for n in names
        },
        "peak_memory_mb": {n: reports[n]["peak_memory_mb"] for n in names},
        "eval_ms_per_example": {n: reports[n].get("eval_ms_per_example") for n in names},
        "memory_budget_mb": reports["tinyvae"]["memory_budget_mb"],
        "tinyvae_profile_ms": reports["tinyvae"]["profile_ms"],
        "tinyvae_adam_alone_ms": reports["tinyvae"]["adam_alone_ms"],
        "tinyvae_parameter_pass_ms": reports["tinyvae"]["parameter_pass_ms"],
    }
    # The speed-up is the median over rounds of the ratio of epoch times within a
    # round: machine speed that drifts between rounds cancels in each ratio.
    results["tinyvae_speedup"] = {
        n: float(np.median(np.array(seconds[n]) / np.array(seconds["tinyvae"]))) for n in names[1:]
    }
    print_table(results)
    if args.json:
        from tinyvae.files import write_json  # in the parent only, as in parse_args

        write_json(args.json, results)
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:  # started by Worker: --worker NAME SEED EVAL_EXAMPLES
        try:
            worker_main(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        except KeyboardInterrupt:  # Ctrl-C reaches the workers too; the parent says so
            sys.exit(130)
    else:
        main()
