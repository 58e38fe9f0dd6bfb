"""Every public door refuses a bad argument by name, and the refusal changes nothing.

Each case calls one public entry point with one bad argument while a loss()
is waiting for its backward(). The error must name the argument; afterwards
the parameters, the gradients, the optimizer's state, the caller's random
generator and the pending forward pass must be exactly as before (the
pending backward still runs), and no file may have been written.
"""

import math

import numpy as np
import pytest
from helpers import assert_unchanged, prototype_data, world_snapshot

import tinyvae as tv
from tinyvae.checkpoint import CheckpointError
from tinyvae.data.batching import batches, binarize
from tinyvae.data.datasets import load_dataset
from tinyvae.nn import ELU, MLP, LeakyReLU, Linear
from tinyvae.objectives import ScoreFunction, add_weight_prior, make_objective

QUIET = {"progress": False}


class World:
    """A model with a forward pass pending, its optimizer, the caller's rng and data."""

    def __init__(self, tmp_path):
        self.rng = np.random.default_rng(0)
        self.model = tv.VAE(x_dim=32, hidden=(8,), z_dim=2, rng=np.random.default_rng(1))
        self.opt = tv.Adam(self.model.parameters(), lr=1e-3)
        self.x = prototype_data(20, seed=0)
        self.z = np.zeros((4, 2), np.float32)
        self.tmp = tmp_path
        # one step so that the optimizer has state worth protecting
        self.objective = tv.SGVB_B(self.model)
        self.objective.loss(self.x, rng=np.random.default_rng(2))
        self.objective.backward()
        self.opt.step()
        self.objective.loss(self.x, rng=np.random.default_rng(3))  # pending

    @staticmethod
    def other_model():
        return tv.VAE(x_dim=32, hidden=(8,), z_dim=2, rng=np.random.default_rng(9))


def x64(w):
    return w.x.astype(np.float64)


B, J = 20, 2
# (what is tried, the call, the exception, what the message must say)
CASES = [
    # -- optimizers: every hyperparameter ------------------------------------------
    ("Adam lr=0", lambda w: tv.Adam(w.model.parameters(), lr=0), ValueError, r"lr: .*> 0, got 0"),
    ("Adam lr<0", lambda w: tv.Adam(w.model.parameters(), lr=-1e-3), ValueError, r"lr: .*> 0"),
    ("Adam lr=nan", lambda w: tv.Adam(w.model.parameters(), lr=math.nan), ValueError, r"lr: .*nan"),
    ("Adam lr=inf", lambda w: tv.Adam(w.model.parameters(), lr=math.inf), ValueError, "lr: "),
    ("Adam lr str", lambda w: tv.Adam(w.model.parameters(), lr="1e-3"), TypeError, r"lr: .*'1e-3'"),
    ("Adam lr bool", lambda w: tv.Adam(w.model.parameters(), lr=True), TypeError, "lr: "),
    (
        "Adam beta1=1",
        lambda w: tv.Adam(w.model.parameters(), beta1=1.0),
        ValueError,
        r"beta1: .*< 1",
    ),
    ("Adam beta1<0", lambda w: tv.Adam(w.model.parameters(), beta1=-0.1), ValueError, "beta1: "),
    (
        "Adam beta2=2",
        lambda w: tv.Adam(w.model.parameters(), beta2=2.0),
        ValueError,
        r"beta2: .*2.0",
    ),
    ("Adam beta2=1", lambda w: tv.Adam(w.model.parameters(), beta2=1.0), ValueError, "beta2: "),
    ("Adam eps=0", lambda w: tv.Adam(w.model.parameters(), eps=0), ValueError, r"eps: .*> 0"),
    ("Adam eps<0", lambda w: tv.Adam(w.model.parameters(), eps=-1e-8), ValueError, "eps: "),
    (
        "Adam bias_correction",
        lambda w: tv.Adam(w.model.parameters(), bias_correction="no"),
        TypeError,
        "bias_correction: expected True or False",
    ),
    ("SGD lr=0", lambda w: tv.SGD(w.model.parameters(), lr=0.0), ValueError, "lr: "),
    (
        "SGD momentum",
        lambda w: tv.SGD(w.model.parameters(), momentum=1.5),
        ValueError,
        "momentum: ",
    ),
    ("SGD momentum=1", lambda w: tv.SGD(w.model.parameters(), momentum=1), ValueError, "momentum:"),
    ("SGD momentum<0", lambda w: tv.SGD(w.model.parameters(), momentum=-0.1), ValueError, "moment"),
    ("AdaGrad lr<0", lambda w: tv.AdaGrad(w.model.parameters(), lr=-1.0), ValueError, "lr: "),
    ("AdaGrad eps=0", lambda w: tv.AdaGrad(w.model.parameters(), eps=0.0), ValueError, "eps: "),
    (
        "SGD nesterov without momentum",
        lambda w: tv.SGD(w.model.parameters(), nesterov=True),
        ValueError,
        "nesterov: .*momentum above 0",
    ),
    ("SGD nesterov str", lambda w: tv.SGD(w.model.parameters(), nesterov="y"), TypeError, "nest"),
    ("RMSProp lr=0", lambda w: tv.RMSProp(w.model.parameters(), lr=0.0), ValueError, "lr: "),
    (
        "Adam lr_decay",
        lambda w: tv.Adam(w.model.parameters(), lr_decay="sqrt"),
        ValueError,
        r"lr_decay: expected one of \['constant', 'inverse_sqrt'\], got 'sqrt'",
    ),
    ("SGD lr_decay", lambda w: tv.SGD(w.model.parameters(), lr_decay=None), ValueError, "lr_decay"),
    ("RMSProp rho=1", lambda w: tv.RMSProp(w.model.parameters(), rho=1.0), ValueError, "rho: "),
    ("RMSProp rho<0", lambda w: tv.RMSProp(w.model.parameters(), rho=-0.5), ValueError, "rho: "),
    ("RMSProp eps=0", lambda w: tv.RMSProp(w.model.parameters(), eps=0.0), ValueError, "eps: "),
    ("AdaMax lr=nan", lambda w: tv.AdaMax(w.model.parameters(), lr=math.nan), ValueError, "lr: "),
    ("AdaMax beta1=1", lambda w: tv.AdaMax(w.model.parameters(), beta1=1.0), ValueError, "beta1"),
    ("AdaMax beta2>1", lambda w: tv.AdaMax(w.model.parameters(), beta2=1.5), ValueError, "beta2"),
    ("AdaMax eps<0", lambda w: tv.AdaMax(w.model.parameters(), eps=-1.0), ValueError, "eps: "),
    ("no parameters", lambda w: tv.Adam([]), ValueError, "parameters: .*empty"),
    ("not parameters", lambda w: tv.Adam([1, 2]), TypeError, r"parameters: .*triples"),
    (
        "parameters twice",
        lambda w: tv.SGD(list(w.model.parameters()) * 2),
        ValueError,
        "parameters: a parameter is listed twice",
    ),
    (
        "integer parameters",
        lambda w: tv.SGD([("w", np.zeros(3, int), np.zeros(3, int))]),
        TypeError,
        "parameters: .*floating arrays",
    ),
    (
        "gradient of another shape",
        lambda w: tv.SGD([("w", np.zeros(3), np.zeros(4))]),
        TypeError,
        "of one shape",
    ),
    # -- models and layers: sizes, names, dtypes, rng --------------------------------------
    (
        "hidden int",
        lambda w: tv.VAE(32, hidden=400, rng=w.rng),
        TypeError,
        "hidden: expected a list",
    ),
    ("hidden 0", lambda w: tv.VAE(32, hidden=[0], rng=w.rng), ValueError, r"hidden\[0\]: .*got 0"),
    ("hidden 2.5", lambda w: tv.VAE(32, hidden=[8, 2.5], rng=w.rng), TypeError, r"hidden\[1\]"),
    ("hidden str", lambda w: tv.VAE(32, hidden="400", rng=w.rng), TypeError, "hidden: "),
    ("x_dim 0", lambda w: tv.VAE(0, rng=w.rng), ValueError, "x_dim: expected an integer >= 1"),
    ("x_dim 1.5", lambda w: tv.VAE(1.5, rng=w.rng), TypeError, r"x_dim: .*1.5 \(float\)"),
    ("z_dim -1", lambda w: tv.VAE(32, z_dim=-1, rng=w.rng), ValueError, "z_dim: "),
    ("z_dim bool", lambda w: tv.VAE(32, z_dim=True, rng=w.rng), TypeError, "z_dim: "),
    ("activation", lambda w: tv.VAE(32, activation="swish", rng=w.rng), ValueError, "activation: "),
    ("likelihood", lambda w: tv.VAE(32, likelihood="poisson", rng=w.rng), ValueError, "likeli"),
    ("init", lambda w: tv.VAE(32, init="zeros", rng=w.rng), ValueError, "init: expected one of"),
    ("dtype int32", lambda w: tv.VAE(32, dtype=np.int32, rng=w.rng), TypeError, r"dtype: .*int32"),
    ("dtype junk", lambda w: tv.VAE(32, dtype="junk", rng=w.rng), TypeError, "dtype: "),
    ("dtype float16", lambda w: tv.VAE(32, dtype=np.float16, rng=w.rng), TypeError, "dtype: "),
    ("VAE rng=0", lambda w: tv.VAE(32, rng=0), TypeError, r"VAE: rng: .*Generator.*got 0"),
    (
        "VAE legacy rng",
        lambda w: tv.VAE(32, rng=np.random.RandomState(0)),
        TypeError,
        r"rng: .*RandomState",
    ),
    ("bounded_mean str", lambda w: tv.VAE(32, bounded_mean="y", rng=w.rng), TypeError, "bounded"),
    (
        "bounded_mean bernoulli",
        lambda w: tv.VAE(32, bounded_mean=True, rng=w.rng),
        ValueError,
        "bounded_mean: True only applies",
    ),
    ("estimator", lambda w: tv.VAE(32, estimator="C", rng=w.rng), ValueError, "estimator: "),
    ("Linear 0", lambda w: Linear(0, 3, rng=w.rng), ValueError, "in_features: "),
    ("Linear init", lambda w: Linear(2, 3, init="x", rng=w.rng), ValueError, "init: "),
    ("Linear rng", lambda w: Linear(2, 3, rng=1), TypeError, "rng: "),
    ("MLP activation", lambda w: MLP(4, [3], 2, "x", rng=w.rng), ValueError, "activation: "),
    ("MLP out_dim", lambda w: MLP(4, [3], 0, rng=w.rng), ValueError, "out_dim: "),
    ("ELU alpha=0", lambda w: ELU(alpha=0), ValueError, "alpha: "),
    ("ELU alpha=nan", lambda w: ELU(alpha=math.nan), ValueError, "alpha: "),
    ("LeakyReLU slope", lambda w: LeakyReLU(slope=-1), ValueError, "slope: "),
    ("astype int32", lambda w: w.model.astype(np.int32), TypeError, "dtype: "),
    # -- objectives: construction, loss, backward ---------------------------------------
    ("n_samples 0", lambda w: tv.SGVB_B(w.model, n_samples=0), ValueError, "n_samples: "),
    ("n_samples 1.5", lambda w: tv.SGVB_A(w.model, n_samples=1.5), TypeError, "n_samples: "),
    ("n_samples bool", lambda w: tv.IWAE(w.model, n_samples=True), TypeError, "n_samples: "),
    ("baseline str", lambda w: ScoreFunction(w.model, baseline="y"), TypeError, "baseline: "),
    (
        "baseline for A",
        lambda w: make_objective(w.model, "A", baseline=True),
        ValueError,
        "baseline: True applies to the score-function",
    ),
    ("estimator name", lambda w: make_objective(w.model, "C"), ValueError, r"estimator: .*'C'"),
    (
        "baseline, one sample",
        lambda w: ScoreFunction(w.model, baseline=True).loss(w.x, rng=w.rng),
        ValueError,
        "n_samples: the leave-one-out baseline needs n_samples >= 2",
    ),
    ("loss rng=0", lambda w: w.objective.loss(w.x, rng=0), TypeError, "rng: "),
    ("loss no noise", lambda w: w.objective.loss(w.x), ValueError, "rng: pass rng="),
    (
        "eps zero samples",
        lambda w: w.objective.loss(w.x, eps=np.zeros((0, B, J), np.float32)),
        ValueError,
        r"eps: .*L >= 1",
    ),
    (
        "eps batch",
        lambda w: tv.SGVB_A(w.model).loss(w.x, eps=np.zeros((B + 1, J), np.float32)),
        ValueError,
        "eps: expected shape",
    ),
    (
        "eps nan",
        lambda w: w.objective.loss(w.x, eps=np.full((B, J), np.nan, np.float32)),
        ValueError,
        "eps: contains NaN",
    ),
    ("eps float64", lambda w: w.objective.loss(w.x, eps=np.zeros((B, J))), TypeError, "eps: "),
    ("x float64", lambda w: w.objective.loss(x64(w), rng=w.rng), TypeError, "x: expected dtype"),
    ("x nan", lambda w: w.objective.loss(w.x * np.nan, rng=w.rng), ValueError, "x: contains NaN"),
    ("x width", lambda w: w.objective.loss(w.x[:, :5], rng=w.rng), ValueError, "x: expected last"),
    ("x range", lambda w: w.objective.loss(w.x * 2, rng=w.rng), ValueError, r"\[0, 1\]"),
    ("x empty", lambda w: w.objective.loss(w.x[:0], rng=w.rng), ValueError, "x: expected at least"),
    ("x list", lambda w: w.objective.loss(w.x.tolist(), rng=w.rng), TypeError, "x: expected a Num"),
    ("dloss nan", lambda w: w.objective.backward(dloss=math.nan), ValueError, "dloss: "),
    ("dloss str", lambda w: w.objective.backward(dloss="1"), TypeError, "dloss: "),
    ("model dloss nan", lambda w: w.model.backward(math.inf), ValueError, "dloss: "),
    # -- evaluation ----------------------------------------------------------------------------
    (
        "elbo batch_size -1",
        lambda w: w.model.elbo(w.x, rng=w.rng, batch_size=-1),
        ValueError,
        "batch_size: ",
    ),
    (
        "elbo batch_size 0",
        lambda w: w.model.elbo(w.x, rng=w.rng, batch_size=0),
        ValueError,
        "batch",
    ),
    (
        "elbo batch_size 1.5",
        lambda w: w.model.elbo(w.x, rng=w.rng, batch_size=1.5),
        TypeError,
        "batch_size: ",
    ),
    ("elbo n_samples", lambda w: w.model.elbo(w.x, rng=w.rng, n_samples=1.5), TypeError, "n_samp"),
    ("elbo rng", lambda w: w.model.elbo(w.x, rng=7), TypeError, "rng: "),
    ("L_k k=0", lambda w: tv.log_likelihood(w.model, w.x, k=0, rng=w.rng), ValueError, "k: "),
    ("L_k k=1.5", lambda w: tv.log_likelihood(w.model, w.x, k=1.5, rng=w.rng), TypeError, "k: "),
    (
        "L_k batch_size",
        lambda w: tv.log_likelihood(w.model, w.x, k=2, rng=w.rng, batch_size=-1),
        ValueError,
        "batch_size: ",
    ),
    (
        "L_k max_rows",
        lambda w: tv.log_likelihood(w.model, w.x, k=2, rng=w.rng, max_rows=0),
        ValueError,
        "max_rows: ",
    ),
    ("L_k no rng", lambda w: tv.log_likelihood(w.model, w.x, k=2), TypeError, "rng: "),
    (
        "grad variance prefix",
        lambda w: tv.gradient_variance(w.model, w.x, "A", 3, w.rng, prefix=3),
        TypeError,
        "prefix: ",
    ),
    (
        "grad variance estimator",
        lambda w: tv.gradient_variance(w.model, w.x, None, 3, w.rng),
        TypeError,
        "estimator: ",
    ),
    (
        "grad variance other model",
        lambda w: tv.gradient_variance(w.model, w.x, tv.SGVB_A(World.other_model()), 3, w.rng),
        TypeError,
        "an objective of this model",
    ),
    ("active threshold", lambda w: tv.active_units(w.model, w.x, -1.0), ValueError, "threshold: "),
    ("active nan", lambda w: tv.active_units(w.model, w.x, math.nan), ValueError, "threshold: "),
    (
        "grad variance n_draws",
        lambda w: tv.gradient_variance(w.model, w.x, "A", 1, w.rng),
        ValueError,
        "n_draws",
    ),
    (
        "grad variance x",
        lambda w: tv.gradient_variance(w.model, w.x * np.nan, "A", 3, w.rng),
        ValueError,
        "x: contains NaN",
    ),
    (
        "sample n=0",
        lambda w: w.model.sample_means(0, w.rng),
        ValueError,
        "n: expected an integer >= 1",
    ),
    ("sample n=1.5", lambda w: w.model.sample_means(1.5, w.rng), TypeError, "n: "),
    ("sample rng", lambda w: w.model.sample_means(2, 0), TypeError, "rng: "),
    ("reconstruct rng", lambda w: w.model.reconstruct(w.x, 0), TypeError, "rng: "),
    (
        "decode_mean",
        lambda w: w.model.decode_mean(np.zeros((2, 5))),
        ValueError,
        "z: expected last",
    ),
    # -- data -------------------------------------------------------------------------------
    ("batches size", lambda w: batches(w.x, 0, w.rng), ValueError, "batch_size: "),
    ("batches rng", lambda w: batches(w.x, 4, 0), TypeError, "rng: "),
    ("binarize rng", lambda w: binarize(w.x, None), TypeError, "rng: "),
    ("binarize range", lambda w: binarize(w.x + 1, w.rng), ValueError, r"\[0, 1\]"),
    ("dataset name", lambda w: load_dataset("cifar"), ValueError, r"name: .*got 'cifar'"),
    ("dataset data_dir", lambda w: load_dataset("mnist", data_dir=5), TypeError, "data_dir: "),
    ("dataset seed", lambda w: load_dataset("synthetic", seed=-1), ValueError, "seed: "),
    ("dataset download", lambda w: load_dataset("mnist", download="n"), TypeError, "download: "),
    ("dream rng", lambda w: tv.WakeSleep(w.model).dream(2, 0), TypeError, "rng: "),
    ("dream n", lambda w: tv.WakeSleep(w.model).dream(-2, w.rng), ValueError, "n .*: expected"),
    ("likelihood rng", lambda w: w.model.likelihood.sample(w.z, 0), TypeError, "rng: "),
    ("prior rng", lambda w: w.model.prior.sample(3, None), TypeError, "rng: "),
    ("weight prior", lambda w: add_weight_prior(w.model, math.nan), ValueError, "scale: "),
    (
        "save_checkpoint rng",
        lambda w: tv.save_checkpoint(w.tmp / "c.npz", w.model, w.opt, rng=5),
        TypeError,
        "rng: ",
    ),
    (
        "load_checkpoint rng",
        lambda w: tv.load_checkpoint(w.tmp / "c.npz", w.model, w.opt, rng=5),
        TypeError,
        "rng: ",
    ),
    (
        "checkpoint folder",
        lambda w: tv.save_checkpoint(w.tmp, w.model, w.opt),
        CheckpointError,
        "path: expected a file name, got the folder",
    ),
]


def fit(w, data=None, objective=None, **kwargs):
    args = {"epochs": 1, "rng": w.rng, "checkpoint": w.tmp / "run.npz", **QUIET}
    objective = w.model if objective is None else objective
    return tv.fit(objective, w.opt, w.x if data is None else data, **{**args, **kwargs})


def fit_on(**batching):
    """fit on ``tv.Batches(w.x, **batching)``: the batching's doors are Batches's own."""
    return lambda w: fit(w, data=tv.Batches(w.x, **batching))


def fit_with(make_objective_of):
    """fit the objective that ``make_objective_of(model)`` returns."""
    return lambda w: fit(w, objective=make_objective_of(w.model))


def fit_given(**kwargs):
    return lambda w: fit(w, **kwargs)


FIT_CASES = [
    ("epochs -1", fit_given(epochs=-1), ValueError, "epochs: expected an integer >= 1, got -1"),
    ("epochs 0", fit_given(epochs=0), ValueError, "epochs: "),
    ("epochs 1.5", fit_given(epochs=1.5), TypeError, "epochs: "),
    ("batch_size 0", fit_on(batch_size=0), ValueError, "batch_size: "),
    ("batch_size -1", fit_on(batch_size=-1), ValueError, "batch_size: "),
    ("batch_size 2.5", fit_on(batch_size=2.5), TypeError, "batch_size: "),
    ("n_samples", fit_with(lambda m: tv.SGVB_B(m, 1.5)), TypeError, "n_samples: "),
    ("estimator", fit_with(lambda m: make_objective(m, "C")), ValueError, "estimator: "),
    (
        "baseline",
        fit_with(lambda m: make_objective(m, "B", baseline=True)),
        ValueError,
        "baseline: ",
    ),
    (
        "score one sample",
        fit_with(lambda m: ScoreFunction(m, 1, baseline=True)),
        ValueError,
        "n_samples: ",
    ),
    ("max_steps", fit_given(max_steps=0), ValueError, "max_steps: "),
    ("binarize", fit_on(binarize="yes"), TypeError, "binarize: "),
    ("MAP n_data", fit_with(lambda m: tv.MAP(m.objective, n_data=1.5)), TypeError, "n_data: "),
    (
        "MAP of a model",
        fit_with(lambda m: tv.MAP(m, n_data=20)),
        TypeError,
        "objective: expected a tinyvae objective",
    ),
    ("resume", fit_given(resume="no"), TypeError, "resume: "),
    ("on_step", fit_given(on_step=3), TypeError, "on_step: "),
    ("progress", fit_given(progress="yes"), ValueError, "progress: "),
    ("checkpoint type", fit_given(checkpoint=3), TypeError, "checkpoint: expected a file path"),
    ("rng", fit_given(rng=0), TypeError, "rng: "),
    ("empty estimator", fit_with(lambda m: make_objective(m, "")), ValueError, "estimator: "),
    ("checkpoint bytes", fit_given(checkpoint=b"run.npz"), TypeError, "checkpoint: "),
    ("drop_last", fit_on(drop_last=True, batch_size=64), ValueError, "drop_last: "),
    ("drop_last str", fit_on(drop_last="yes"), TypeError, "drop_last: "),
    (
        "labels to a VAE",
        fit_on(labels=np.zeros(B, int)),
        ValueError,
        "labels: SGVB_B trains without labels",
    ),
    (
        "x_test width",
        fit_given(x_test=np.zeros((3, 5), np.float32)),
        ValueError,
        "x: expected last",
    ),
]

# fit's 0.2 keywords still work, with a DeprecationWarning, and still refuse a bad value by name
LEGACY_FIT_CASES = [
    ("batch_size 0", {"batch_size": 0}, ValueError, "batch_size: "),
    ("batch_size 2.5", {"batch_size": 2.5}, TypeError, "batch_size: "),
    ("n_samples", {"n_samples": 1.5}, TypeError, "n_samples: "),
    ("estimator", {"estimator": "C"}, ValueError, "estimator: "),
    ("baseline", {"baseline": True}, ValueError, "baseline: "),
    ("score one sample", {"estimator": "score", "baseline": True}, ValueError, "n_samples: "),
    ("binarize", {"binarize": "yes"}, TypeError, "binarize: "),
    ("weight_prior", {"weight_prior": 1}, TypeError, "weight_prior: "),
    ("scale_to_dataset alone", {"scale_to_dataset": True}, ValueError, "tv.MAP"),
    ("drop_last", {"drop_last": True, "batch_size": 64}, ValueError, "drop_last: "),
    ("verbose", {"verbose": "no"}, TypeError, "verbose: "),
    ("labels", {"labels": np.zeros(B, int)}, ValueError, "labels: "),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_bad_argument_is_refused_by_name_and_changes_nothing(tmp_path, case):
    _, call, error, message = case
    world = World(tmp_path)
    before = world_snapshot(world)
    with pytest.raises(error, match=message):
        call(world)
    assert_unchanged(before, world)


@pytest.mark.parametrize("case", FIT_CASES, ids=[c[0] for c in FIT_CASES])
def test_fit_refuses_a_bad_argument_before_training_or_writing(tmp_path, case):
    _, call, error, message = case
    world = World(tmp_path)
    before = world_snapshot(world)
    with pytest.raises(error, match=message):
        call(world)
    assert_unchanged(before, world)


def test_fit_refuses_batches_together_with_the_0_2_batching_keywords(tmp_path):
    world = World(tmp_path)
    before = world_snapshot(world)
    with (
        pytest.warns(DeprecationWarning, match="tinyvae 0.2's"),
        pytest.raises(TypeError, match="data: tv.Batches already holds the batching"),
    ):
        fit(world, data=tv.Batches(world.x), batch_size=10)
    assert_unchanged(before, world)


@pytest.mark.parametrize("case", LEGACY_FIT_CASES, ids=[c[0] for c in LEGACY_FIT_CASES])
def test_fit_refuses_a_bad_0_2_keyword_by_name_and_warns_of_it(tmp_path, case):
    _, kwargs, error, message = case
    world = World(tmp_path)
    before = world_snapshot(world)
    with (
        pytest.warns(DeprecationWarning, match="tinyvae 0.2's"),
        pytest.raises(error, match=message),
    ):
        fit(world, **kwargs)
    assert_unchanged(before, world)


def test_fit_refuses_a_checkpoint_it_cannot_write_before_training(tmp_path):
    world = World(tmp_path)
    (tmp_path / "a_file").write_text("not a folder")
    before = world_snapshot(world)
    with pytest.raises(OSError, match="checkpoint: cannot write into"):
        fit(world, checkpoint=tmp_path / "a_file" / "run.npz")
    with pytest.raises(ValueError, match="checkpoint: expected a file path, got the folder"):
        fit(world, checkpoint=tmp_path)
    assert_unchanged(before, world)


def test_an_optimizer_made_before_astype_refuses_to_step_or_zero():
    model = tv.VAE(x_dim=32, hidden=(8,), z_dim=2, rng=np.random.default_rng(0))
    opt = tv.Adam(model.parameters())
    model.astype(np.float64)
    state = opt.state_dict()
    for call in (opt.step, opt.zero_grad):
        with pytest.raises(RuntimeError, match="no longer the model's .*after converting"):
            call()
    assert opt.t == 0 and all(np.array_equal(opt.state_dict()[k], v) for k, v in state.items())
    tv.Adam(model.parameters()).step()  # one made after converting steps


def test_a_failed_loss_keeps_the_pending_forward_of_another_objective(tmp_path):
    world = World(tmp_path)
    other = tv.IWAE(world.model, n_samples=2)
    before = world_snapshot(world)
    with pytest.raises(ValueError, match="eps: "):
        other.loss(world.x, eps=np.zeros((0, B, J), np.float32))
    assert_unchanged(before, world)


def test_wake_sleep_step_with_bad_data_leaves_the_gradients_alone(tmp_path):
    world = World(tmp_path)
    ws = tv.WakeSleep(world.model)
    before = world_snapshot(world)
    with pytest.raises(ValueError, match="x: contains NaN"):
        ws.step(world.x * np.nan, world.opt, world.rng)
    with pytest.raises(ValueError, match="dloss: "):
        ws.backward_wake(math.nan)
    assert_unchanged(before, world)


def test_bernoulli_data_is_checked_once_at_the_door_before_any_network_runs(tmp_path):
    world = World(tmp_path)
    before = world_snapshot(world)
    for door in (world.model.loss, tv.SGVB_A(world.model).loss, tv.IWAE(world.model, 2).loss):
        with pytest.raises(ValueError, match=r"x: Bernoulli data must lie in \[0, 1\]"):
            door(world.x * 3, rng=world.rng)
    assert_unchanged(before, world)


@pytest.mark.parametrize("optimizer", [None, "adam", "another model's"])
def test_fit_and_wake_sleep_refuse_an_optimizer_that_does_not_train_the_model(tmp_path, optimizer):
    world = World(tmp_path)
    if optimizer == "another model's":
        optimizer = tv.Adam(World.other_model().parameters())
        error, message = ValueError, "optimizer: it updates arrays that are not this model's"
    else:
        error, message = TypeError, "optimizer: expected a tinyvae optimizer"
    before = world_snapshot(world)
    with pytest.raises(error, match=message):
        tv.fit(world.model, optimizer, world.x, epochs=1, rng=world.rng, **QUIET)
    if not isinstance(optimizer, str | type(None)):
        with pytest.raises(error, match=message):
            tv.WakeSleep(world.model).step(world.x, optimizer, world.rng)
    assert_unchanged(before, world)


def test_a_gaussian_decoder_refuses_a_bad_rng_before_its_cache_changes():
    model = tv.VAE(x_dim=6, hidden=(4,), z_dim=2, likelihood="gaussian",
                   rng=np.random.default_rng(0))  # fmt: skip
    x = np.random.default_rng(1).random((5, 6)).astype(np.float32)
    model.loss(x, rng=np.random.default_rng(2))
    with pytest.raises(TypeError, match="sample: rng: "):
        model.likelihood.sample(np.zeros((3, 2), np.float32), "bad")
    model.backward()  # the pending forward survived


def test_numpy_flags_and_zero_dimensional_numbers_are_accepted(tmp_path):
    world = World(tmp_path)
    opt = tv.Adam(world.model.parameters(), lr=np.array(1e-3), beta1=np.float32(0.9))
    data = tv.Batches(world.x, batch_size=np.int64(10), binarize=np.False_, drop_last=np.True_)
    tv.fit(world.model, opt, data, epochs=np.int64(1), rng=world.rng,
           checkpoint=tmp_path / "run.npz", resume=np.False_, progress=False)  # fmt: skip
    assert (tmp_path / "run.npz").exists()


def test_a_numpy_flag_is_accepted_as_progress(tmp_path):
    world = World(tmp_path)
    tv.fit(world.model, world.opt, world.x, epochs=1, rng=world.rng, progress=np.False_)
