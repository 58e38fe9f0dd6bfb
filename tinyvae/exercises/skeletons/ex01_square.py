"""Exercise 1, the warm-up: the backward pass of y = x * x, elementwise.

By the chain rule, elementwise: dL/dx = dL/dy * dy/dx = dy * 2x.
Check it with:  python -m tinyvae.exercises check ex01_square.py
"""

import tinyvae as tv


class Square(tv.Module):
    """y = x * x, elementwise."""

    def forward(self, x):
        self.save(x)
        return x * x

    def backward(self, dy):
        x = self.take()
        # TODO: return dL/dx, the same shape as x, from the upstream gradient dy.
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(1, Square) else 1)
