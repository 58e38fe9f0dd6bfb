"""Exercise 2: the backward pass of a fully connected layer.

Forward, for a batch of B rows (b is added to every row):

    y = x W + b         x: (B, in),   W: (in, out),   b: (out,),   y: (B, out)

backward receives dy, the gradient dL/dy, of shape (B, out). It adds dL/dW, of shape
(in, out), into self.grads["W"] and dL/db, of shape (out,), into self.grads["b"] with +=,
never =: gradients accumulate, so a layer used twice gets both contributions. It returns
dL/dx, of shape (B, in).

Check it with:  python -m tinyvae.exercises check ex02_linear.py
"""

import tinyvae as tv


class Linear(tv.Linear):
    """tinyvae's Linear (its __init__ and forward), with your backward."""

    def backward(self, dy):
        x = self.take()  # forward kept x, its input, (B, in); dy is (B, out)
        W = self.params["W"]  # (in, out)
        # TODO: add dL/dW, (in, out), into self.grads["W"] and dL/db, (out,), into
        # self.grads["b"] (with +=); return dL/dx, shape (B, in).
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(2, Linear) else 1)
