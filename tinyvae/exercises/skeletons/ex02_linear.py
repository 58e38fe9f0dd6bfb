"""Exercise 2: the backward pass of a fully connected layer, y = x W + b.

    dL/dx = dy W^T,   dL/dW = x^T dy,   dL/db = sum over the batch of dy

Add the parameter gradients into self.grads["W"] and self.grads["b"] (+=),
return dL/dx. Check it with:  python -m tinyvae.exercises check ex02_linear.py
"""

import tinyvae as tv


class Linear(tv.Linear):
    """tinyvae's Linear (its __init__ and forward), with your backward."""

    def backward(self, dy):
        x = self.take()  # the input of forward, (B, in)
        W = self.params["W"]  # (in, out)
        # TODO: add dL/dW and dL/db into self.grads["W"] and self.grads["b"],
        # and return dL/dx.
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(2, Linear) else 1)
