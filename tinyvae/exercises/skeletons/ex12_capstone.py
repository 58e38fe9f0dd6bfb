"""Exercise 12, the capstone: a VAE built from your own pieces.

Run it in the folder that holds your earlier exercises (ex02_linear.py,
ex03_activations.py, ex05_reparameterize.py, ex07_bernoulli.py, ex08_kl.py).
Check it with:  python -m tinyvae.exercises check ex12_capstone.py
"""


def pieces():
    """Your classes, by the name of the tinyvae class each one replaces."""
    # TODO: import your classes from your earlier exercise files, e.g.
    #     from ex02_linear import Linear
    # and return {"Linear": Linear, "Tanh": ..., "Reparameterize": ...,
    #             "BernoulliLogDensity": ..., "StandardNormalKL": ...}
    raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(12, pieces) else 1)
