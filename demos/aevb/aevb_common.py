"""What the AEVB figure demos share: the paper's training setup and the curve plot.

Imported by aevb_figures.py and aevb_figure3.py (Python puts the folder of
the script it runs on the module path, so this works from any directory).

The setup of AEVB section 5, used as written: SGVB estimator B with L = 1,
minibatches of M = 100 (the last partial batch of an epoch is dropped),
AdaGrad, the objective scaled to the whole data set (N/M) plus a N(0, I)
prior on the parameters. Wake-sleep trains the same networks the same way.
"""

import math

from matplotlib.ticker import NullFormatter

import tinyvae as tv

COLOURS = {"AEVB": "#d62728", "wake-sleep": "#1f77b4"}


def train(model, method, x_train, steps, rng, lr, binary, on_step):
    """Train ``model`` by AEVB or wake-sleep for ``steps`` minibatches of 100.

    ``on_step(step)`` is called after every step (the figures evaluate
    their curves there).
    """
    objective = tv.WakeSleep(model) if method == "wake-sleep" else tv.SGVB_B(model)
    tv.fit(
        tv.MAP(objective, n_data=len(x_train)),  # AEVB's J: N/M sum_i bound_i + log p(theta)
        tv.AdaGrad(model.parameters(), lr=lr),
        tv.Batches(x_train, batch_size=100, binarize=binary, drop_last=True),
        epochs=math.ceil(steps / (len(x_train) // 100)),
        max_steps=steps,
        rng=rng,
        on_step=on_step,
        progress=False,
    )


def plot_methods(ax, curves, ylabel):
    """Train (solid) and test (dashed) curves per method against samples evaluated.

    A method that starts thousands of nats lower (wake-sleep at Nz = 200)
    would flatten every other curve: the axis then stops 3 AEVB-ranges below
    AEVB's lowest point, and a note under the panel gives the lowest value of
    each method that goes below it.
    """
    for method, curve in curves.items():
        if curve is None:
            continue
        colour = COLOURS[method]
        ax.semilogx(curve["samples"], curve["train"], "-", color=colour, label=f"{method} (train)")
        ax.semilogx(curve["samples"], curve["test"], "--", color=colour, label=f"{method} (test)")
    ax.set_xlabel("# training samples evaluated")
    ax.xaxis.set_minor_formatter(NullFormatter())  # labels at powers of 10 only
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    aevb = curves.get("AEVB")
    if aevb is None:
        return
    lowest, highest = min(aevb["train"] + aevb["test"]), max(aevb["train"] + aevb["test"])
    bottom = lowest - 3 * (highest - lowest)
    points = {method: c["train"] + c["test"] for method, c in curves.items() if c}
    below = {method: values for method, values in points.items() if min(values) < bottom}
    if below:
        top = max(max(values) for values in points.values())
        ax.set_ylim(bottom, top + 0.05 * (top - bottom))
        note = "\n".join(
            f"{method} lies below the axis ({min(values):.0f} to {max(values):.0f})"
            if max(values) < bottom
            else f"{method} starts below the axis (min {min(values):.0f})"
            for method, values in below.items()
        )
        ax.text(0.5, -0.3, note, transform=ax.transAxes, fontsize=8, ha="center", va="top")
