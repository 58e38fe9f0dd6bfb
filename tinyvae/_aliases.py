"""The module paths of tinyvae 0.1, which was one flat folder, kept importable.

``import tinyvae.wake_sleep``, ``from tinyvae.batching import batches`` and
the like keep working: each old path names the module that now holds the
same code. New code imports from the new places (or from ``tinyvae``).
"""

import importlib
import sys
import types

OLD_PATHS = {
    "module": ("nn.module", "validation"),  # 0.1 kept check_input there
    "linear": "nn.linear",
    "activations": "nn.activations",
    "mlp": "nn.mlp",
    "reparameterize": "distributions.reparameterize",
    "gaussian": "distributions.gaussian",
    "bernoulli": "distributions.bernoulli",
    "kl": "distributions.kl",
    "vae": ("models.vae", "nn.functional", "objectives"),  # logsumexp, ESTIMATORS
    "wake_sleep": ("objectives.wake_sleep", "train"),  # the objective and its loop
    "weight_prior": "objectives.weight_prior",
    "gradient_variance": "evaluation",
    "atomic": "files",
    "batching": "data.batching",
    "datasets": "data.datasets",
    "download": "data.download",
    "mnist": "data.mnist",
    "frey": "data.frey",
    "binarized_mnist": "data.binarized_mnist",
    "synthetic_digits": "data.synthetic_digits",
}


def install():
    """Register every old path as another name of its new module."""
    package = sys.modules[__package__]
    for old, new in OLD_PATHS.items():
        if isinstance(new, tuple):  # one old file whose code now lives in two
            module = types.ModuleType(f"{__package__}.{old}", f"tinyvae 0.1's {old}.py")
            for part in new:
                public = vars(importlib.import_module(f"{__package__}.{part}"))
                module.__dict__.update({k: v for k, v in public.items() if not k.startswith("_")})
        else:
            module = importlib.import_module(f"{__package__}.{new}")
        sys.modules[f"{__package__}.{old}"] = module
        if not hasattr(package, old):  # tv.gradient_variance stays the function
            setattr(package, old, module)
