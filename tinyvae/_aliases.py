"""The module paths of tinyvae 0.1, which was one flat folder, kept importable.

``import tinyvae.wake_sleep``, ``from tinyvae.batching import batches`` and
the like keep working: each old path names the module that now holds the
same code. New code imports from the new places (or from ``tinyvae``).

The data loaders' old paths (``tinyvae.mnist`` ...) are served when first
used, as ``tinyvae.mnist`` or ``import tinyvae.mnist``: their modules need
pooch or matplotlib, which ``import tinyvae`` does not load.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

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


LAZY = ("mnist", "frey", "binarized_mnist", "synthetic_digits", "download")


class LazyAliases(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``tinyvae.<old>`` for an old path in ``LAZY`` and loads it as its new module."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, old = fullname.rpartition(".")
        if package != __package__ or old not in LAZY:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        old = spec.name.rpartition(".")[2]
        module = importlib.import_module(f"{__package__}.{OLD_PATHS[old]}")
        self.spec = module.__spec__  # the import system sets the alias's; exec restores it
        return module

    def exec_module(self, module):
        module.__spec__ = self.spec


def lazy_attribute(name):
    """``tinyvae.<old>`` before it is imported: the package's ``__getattr__``."""
    if name in LAZY:
        return importlib.import_module(f"{__package__}.{name}")
    raise AttributeError(f"module {__package__!r} has no attribute {name!r}")


def install():
    """Register every old path as another name of its new module."""
    package = sys.modules[__package__]
    sys.meta_path.append(LazyAliases())
    package.__getattr__ = lazy_attribute  # a module's __getattr__ answers for missing names
    for old, new in OLD_PATHS.items():
        if old in LAZY:
            continue
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


def renamed(new, old):
    """A method under its tinyvae 0.2 name ``old``: warns, then calls ``new``."""

    def method(self, *args, **kwargs):
        warnings.warn(
            f"{type(self).__name__}.{old}() is tinyvae 0.2's name; use {new}() (see CHANGELOG.md)",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self, new)(*args, **kwargs)

    method.__name__ = method.__qualname__ = old
    method.__doc__ = f"tinyvae 0.2's name of ``{new}``; warns."
    return method
