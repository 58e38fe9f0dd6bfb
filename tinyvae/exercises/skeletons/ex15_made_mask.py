"""Exercise 15: the masks of MADE, an autoregressive MLP.

Germain, Gregor, Murray & Larochelle 2015, "MADE", section 4, eqs. (12)-(13).

degrees = [input degrees d (D,), hidden layer 1 degrees (H1,), ..., last hidden (HL,)]
Masks are (in, out), like the weights of x @ (W * mask):

    hidden layer:  keep  m_out >= m_in      (eq. (12))
    output layer:  keep  d_out > m_in       (eq. (13), strict), m_in the last hidden layer's
                   output i has input i's degree d_i; the D outputs repeat once per head

Check it with:  python -m tinyvae.exercises check ex15_made_mask.py
"""

import numpy as np


def made_masks(degrees, heads=1):
    """One boolean mask (in, out) per layer: the hidden layers', then the output's.

    degrees: a list of integer arrays, the inputs' (D,) first, then each hidden layer's.
    The output mask is (len(degrees[-1]), heads * D): columns [k*D, (k+1)*D) are head k.
    """
    # TODO: a mask per pair of consecutive layers of degrees (hidden: >=), then the output
    # mask against the last hidden layer (strict >), its columns tiled once per head.
    raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(15, made_masks) else 1)
