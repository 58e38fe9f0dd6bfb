"""Exercise 15: the masks that make an MLP autoregressive (MADE).

MADE (Germain, Gregor, Murray & Larochelle 2015, "MADE: Masked Autoencoder
for Distribution Estimation", section 4) multiplies each weight matrix of an
MLP by a fixed binary mask, so that output i depends only on the inputs
that come before i in an order. Every unit gets a degree:

    input i          d_i = order[i] + 1, in 1..D
    hidden unit k    m_k, in 1..D-1 (layer by layer, from ``made_degrees``)
    output i         d_i, the degree of input i (the same for every head)

and a connection is kept

    into a hidden unit k'  from a unit of degree m_k   when  m_k' >= m_k    (eq. (12))
    into output i          from a unit of degree m_k   when  d_i > m_k      (eq. (13), strict)

so a path from input j to output i has degrees d_j <= m <= ... <= m < d_i:
output i never sees input i or any input after it. That triangular
Jacobian is what inverse autoregressive flow needs (Kingma et al. 2016,
section 3).

Write ``made_masks(degrees, heads=1)``. ``degrees`` is the list that
``tinyvae.nn.made.made_degrees`` returns: the input degrees (D,), then one array per hidden
layer. Return one boolean mask per layer, shaped (in, out) like the weights
of ``x @ (W * mask)``: one per hidden layer, then the output mask
(last hidden size, heads * D), whose columns are the D outputs repeated once
per head (head 0 is columns 0..D-1, head 1 the next D, ...). With
m_in a column of the layer's input degrees and m_out a row of its output
degrees, ``m_out >= m_in`` broadcasts to the (in, out) mask.
"""

import numpy as np

from ..nn.made import connectivity, made_degrees, made_masks
from .exercise import BrokenContract, Exercise, Mistake

D, HIDDEN, HEADS = 5, (7, 6, 5), 2
# the last hidden layer has D units, so that an output mask compared with the input degrees
# still fits the layer and its connectivity shows


def chains(masks):
    """True if the masks' shapes take the D inputs, layer by layer, to heads * D outputs."""
    return (
        all(mask.ndim == 2 for mask in masks)
        and masks[0].shape[0] == D
        and all(a.shape[1] == b.shape[0] for a, b in zip(masks, masks[1:]))
        and masks[-1].shape[1] > 0
        and masks[-1].shape[1] % D == 0
    )


def autoregressive(masks, input_degrees):
    """The connectivity of ``masks`` and its violations, as floats (D, outputs).

    A violation is an input i connected to an output column of degree <= d_i (the output
    columns tiled from ``input_degrees``, once per head). Masks whose shapes do not
    chain have no connectivity: ``BrokenContract`` says so, and whether they are
    transposed.
    """
    if not chains(masks):
        shapes = ", ".join(str(mask.shape) for mask in masks)
        transposed = all(m.ndim == 2 for m in masks) and chains([m.T for m in masks])
        raise BrokenContract(
            f"masks: their shapes {shapes} do not chain from the {D} inputs to heads * D "
            "outputs, (D, h1), (h1, h2), ..., (h_last, heads * D)"
            + ("; transposed, they would: a mask is (in, out)" if transposed else _break(masks))
        )
    paths = connectivity(masks).astype(np.float64)
    output_degrees = np.tile(input_degrees, paths.shape[1] // D)
    violations = paths * (input_degrees[:, None] >= output_degrees[None, :])
    return paths, violations


def _break(masks):
    """Where shapes that are not transposed stop chaining: the first mask that does not
    read what the layer before it has."""
    if any(mask.ndim != 2 for mask in masks):
        return ""
    last, before = masks[-1].shape, masks[-2].shape if len(masks) > 1 else (0, 0)
    if last[1] == D and last[0] % before[1] == 0 and last[0] > before[1]:
        return (
            f"; the output mask, {last}, repeats the heads along its rows: each head is a "
            "copy of the output columns, so tile along axis 1, (h_last, heads * D)"
        )
    for i in range(1, len(masks)):
        if masks[i].shape[0] != masks[i - 1].shape[1]:
            last = " (the output mask reads the last hidden layer)" if i == len(masks) - 1 else ""
            return (
                f"; mask {i + 1} reads {masks[i].shape[0]} units where the layer before it has "
                f"{masks[i - 1].shape[1]}: each mask goes from one layer's degrees to the "
                f"next layer's{last}"
            )
    return ""


# what a wrong number of masks is told (a mask dropped, or one too many)
COUNT = (
    "hidden layers + 1 masks are needed, one into each hidden layer (a pair of consecutive "
    "entries of degrees), then the output mask from the last hidden layer (hint 1 of 3 counts "
    "them)"
)
OUTPUT_MASK_MISSING = (
    f"a mask is missing: {COUNT}; yours stop at the last hidden layer, so the output mask, "
    "to the heads * D outputs, is the one left out"
)
HIDDEN_MASK_MISSING = (
    f"a mask is missing: {COUNT}; yours end with an output mask, so a hidden layer's mask is "
    "the one left out (a loop over the layers that stops one short?)"
)
EXTRA = f"one mask too many: {COUNT}"


def counted(masks, degrees):
    """``BrokenContract`` unless there is one mask per layer, len(degrees) of them (the
    hidden layers, then the output): a mask dropped can leave shapes that still chain (the
    last hidden layer has D units) or shapes that do not; the count says which was left out."""
    if len(masks) == len(degrees):
        return
    if len(masks) > len(degrees):
        why = EXTRA
    elif masks and masks[-1].ndim == 2 and masks[-1].shape[1] == HEADS * D:
        why = HIDDEN_MASK_MISSING
    else:
        why = OUTPUT_MASK_MISSING
    raise BrokenContract(
        f"masks: {len(masks)} returned for {len(degrees) - 1} hidden layers; {why}"
    )


def trial(made_masks, rng):
    order = rng.permutation(D)  # a shuffled order, so that a degree is not the index + 1
    degrees = made_degrees(D, HIDDEN, order, hidden_degrees="random", rng=rng)
    masks = made_masks([d.copy() for d in degrees], heads=HEADS)
    masks = [np.asarray(mask, dtype=np.float64) for mask in masks]
    counted(masks, degrees)
    out = {f"mask_{i}": mask for i, mask in enumerate(masks[:-1])}
    out["mask_out"] = masks[-1]
    out["connectivity"], out["violations"] = autoregressive(masks, degrees[0])
    return out


# -- mistakes ---------------------------------------------------------------------------
def _masks(degrees, heads, hidden_keeps, output_keeps, output_degrees=None, last=None):
    """Masks built with the comparisons given: ``keeps(deg_in, deg_out)`` -> (in, out)."""
    masks = [hidden_keeps(d_in, d_out) for d_in, d_out in zip(degrees, degrees[1:])]
    if output_degrees is None:
        output_degrees = np.tile(degrees[0], heads)
    masks.append(output_keeps(degrees[-1] if last is None else last, output_degrees))
    return masks


def _geq(d_in, d_out):
    return d_out[None, :] >= d_in[:, None]


def _gt(d_in, d_out):
    return d_out[None, :] > d_in[:, None]


def _leq(d_in, d_out):
    return d_out[None, :] <= d_in[:, None]


def _output_not_strict(degrees, heads=1):
    return _masks(degrees, heads, _geq, _geq)


def _hidden_strict(degrees, heads=1):
    return _masks(degrees, heads, _gt, _gt)


def _hidden_reversed(degrees, heads=1):
    return _masks(degrees, heads, _leq, _gt)


def _input_degrees_at_output(degrees, heads=1):
    return _masks(degrees, heads, _geq, _gt, last=degrees[0])


def _natural_output_degrees(degrees, heads=1):
    D = len(degrees[0])
    return _masks(degrees, heads, _geq, _gt, output_degrees=np.tile(np.arange(1, D + 1), heads))


def _order_for_degrees(degrees, heads=1):
    return _masks(degrees, heads, _geq, _gt, output_degrees=np.tile(degrees[0] - 1, heads))


def _repeat_for_tile(degrees, heads=1):
    return _masks(degrees, heads, _geq, _gt, output_degrees=np.repeat(degrees[0], heads))


def _no_tile(degrees, heads=1):
    return _masks(degrees, heads, _geq, _gt, output_degrees=degrees[0])


def _last_hidden_mask_dropped(degrees, heads=1):
    masks = _masks(degrees, heads, _geq, _gt)
    return masks[:-2] + masks[-1:]  # the loop stops one hidden layer short


def _output_mask_forgotten(degrees, heads=1):
    return _masks(degrees, heads, _geq, _gt)[:-1]  # the hidden masks alone


def _transposed(degrees, heads=1):
    return [mask.T for mask in made_masks(degrees, heads)]


EXERCISE = Exercise(
    number=15,
    chapter="ch. 4-5",
    slug="made_mask",
    title="MADE: the masks that make an MLP autoregressive",
    target="made_masks",
    reference=made_masks,
    trial=trial,
    solution="tinyvae/nn/made.py, made_masks (and connectivity, which checks them)",
    hints=[
        "There is one mask per layer: one for each pair of consecutive entries of degrees "
        "(inputs -> hidden 1, hidden 1 -> hidden 2, ...), and one from the last hidden layer "
        "to the outputs. A mask is (in, out): a column of the in-degrees, d_in[:, None], "
        "compared with a row of the out-degrees, d_out[None, :], broadcasts to it.",
        "Hidden layers keep m_out >= m_in (a unit may read units of its own degree). The "
        "outputs have the input degrees, degrees[0], once per head (np.tile), and keep "
        "d_out > m_in strictly against the LAST hidden layer, so output i never reads "
        "input i.",
        "masks = [d_out[None, :] >= d_in[:, None] for d_in, d_out in zip(degrees, "
        "degrees[1:])]; out = np.tile(degrees[0], heads); "
        "masks.append(out[None, :] > degrees[-1][:, None]); return masks.",
    ],
    mistakes=[
        Mistake(
            ">= at the output",
            _output_not_strict,
            "output i may depend on input i: the masks are not autoregressive (the "
            "connectivity links an input to an output of the same or a lower degree). "
            "The output layer keeps d_out > m_in, strictly (Germain et al. 2015, eq. (13)); "
            "only the hidden layers keep m_out >= m_in",
        ),
        Mistake(
            "> in the hidden layers",
            _hidden_strict,
            "the hidden masks use >, which cuts connections MADE keeps: a hidden unit of "
            "degree m reads every unit of degree <= m, m_out >= m_in (eq. (12)); only the "
            "output mask is strict",
        ),
        Mistake(
            "hidden comparison reversed",
            _hidden_reversed,
            "the hidden masks keep m_in >= m_out, the comparison reversed: a hidden unit of "
            "degree m reads the units of degree <= m, so keep m_out >= m_in (eq. (12)); "
            "reversed, it lets an output read inputs at or after it",
        ),
        Mistake(
            "output mask against the input degrees",
            _input_degrees_at_output,
            "the output mask compares the outputs with the input degrees, degrees[0]: the "
            "output layer reads the last hidden layer, so keep d_out > m_in with "
            "m_in = degrees[-1] (rows: the last hidden units)",
        ),
        Mistake(
            "natural output degrees",
            _natural_output_degrees,
            "the output degrees ignore the order: output i has the degree of input i, "
            "degrees[0][i] (order[i] + 1), not i + 1; tile degrees[0] once per head",
        ),
        Mistake(
            "order for degrees",
            _order_for_degrees,
            "the output degrees are one too small: you used the order (0-based), "
            "degrees[0] - 1, where the degree itself belongs; output i has input i's "
            "degree d_i = order[i] + 1, and keeps d_i > m_in",
        ),
        Mistake(
            "np.repeat for np.tile",
            _repeat_for_tile,
            "the output columns interleave the heads (np.repeat gives d_0, d_0, d_1, d_1, "
            "...): each head is a block of D columns, head k is columns [k*D, (k+1)*D), so "
            "repeat the whole row of degrees, np.tile(degrees[0], heads)",
        ),
        Mistake(
            "output mask not tiled per head",
            _no_tile,
            "the output mask has D columns, not heads * D: every head has its own D "
            "outputs with the input degrees, so tile them, np.tile(degrees[0], heads)",
        ),
        Mistake("last hidden mask dropped", _last_hidden_mask_dropped, HIDDEN_MASK_MISSING),
        Mistake("output mask forgotten", _output_mask_forgotten, OUTPUT_MASK_MISSING),
        Mistake(
            "masks transposed",
            _transposed,
            "transposed, they would: a mask is (in, out)",
        ),
    ],
)
