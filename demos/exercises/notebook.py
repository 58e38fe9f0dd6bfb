# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Start here: write a backward pass, and be told what you got wrong
#
# tinyvae's 19 exercises ask you to derive the backward passes of a VAE and of the
# thesis's models yourself. Each one gives the forward pass, the paper's equation,
# the shapes and what to return; the derivative is yours to find. A checker runs
# your code and tinyvae's on the same random inputs, compares every array, and when
# one differs says *how*: transposed, a sign, a factor, a sum over the wrong axis, a
# term left out, an input changed in place.
#
# This notebook does exercise 2, the backward pass of a fully connected layer, end
# to end: read the task, make a first attempt (with a mistake learners often make),
# read the checker's diagnosis, take a hint, and pass. The same exercises work from
# a terminal (`python -m tinyvae.exercises list`); the last cell shows how.

# %%
import numpy as np

import tinyvae as tv
from tinyvae.exercises import EXERCISES, check
from tinyvae.gradcheck import check_module

for number, exercise in EXERCISES.items():
    print(f"{number:3d}  {exercise.chapter:<8s} {exercise.title}")

# %% [markdown]
# ## The task
#
# Every exercise starts from a skeleton file whose docstring is the task. Exercise
# 2's:

# %%
print(EXERCISES[2].task)

# %% [markdown]
# In a notebook you write the class in a cell. It derives from `tv.Linear`, so
# `__init__` and `forward` are tinyvae's: `forward` computes $y = xW + b$ and keeps
# $x$ with `self.save(x)`; your `backward` takes it back, once, with `self.take()`.
#
# ## A first attempt
#
# Each entry $y_{nj} = \sum_i x_{ni} W_{ij} + b_j$. A first attempt might reason "the
# gradient of $xW$ in $W$ is $x$, times $dy$", and average the bias's gradient over
# the batch "because the loss is a batch mean":


# %%
class Linear(tv.Linear):
    def backward(self, dy):
        x = self.take()
        self.grads["W"] += dy.T @ x  # (out, B) @ (B, in)
        self.grads["b"] += dy.mean(axis=0)
        return dy @ self.params["W"].T


result = check(2, Linear)

# %% [markdown]
# Two arrays are wrong, and the checker says how for each: `dW` is the transpose of
# the right answer (it has the shape (out, in), and the layer here is square, so
# only its values can show it), and `db` is $1/B$ of the right answer (the loss's
# batch mean is already in `dy`: the layer must not average again). `dx` is right.
#
# Stuck on a derivation? The hints come in steps: the first says which rule to
# use, the second gives one derivative, the last gives all. In a terminal, `python -m
# tinyvae.exercises hint 2` shows the next one and remembers how many you have seen.

# %%
print(EXERCISES[2].hints[0])

# %% [markdown]
# $W_{ij}$ reaches the loss through column $j$ of every row of $y$, so
# $\partial L/\partial W_{ij} = \sum_n x_{ni}\, dy_{nj}$: the matrix product
# $x^\top dy$, of shape (in, out) like $W$. $b_j$ is added to every row, so its
# gradient sums $dy$ over the batch.


# %%
class Linear(tv.Linear):
    def backward(self, dy):
        x = self.take()
        self.grads["W"] += x.T @ dy  # sum over the batch of x_ni dy_nj
        self.grads["b"] += dy.sum(axis=0)  # b reaches every row
        return dy @ self.params["W"].T  # dx_ni = sum_j dy_nj W_ij


result = check(2, Linear)

# %% [markdown]
# ## The same layer, gradient-checked
#
# The checker compares your arrays with tinyvae's. The tool every backward pass in
# tinyvae is proved with compares them with central differences instead, in float64,
# with a random upstream gradient: use it on layers of your own, where there is no
# reference to compare with.

# %%
rng = np.random.default_rng(0)
layer = Linear(4, 3, rng=rng, dtype=np.float64)
print(check_module(layer, rng.normal(size=(5, 4))))

# %% [markdown]
# ## Next
#
# The exercises follow the book: AEVB (1-12, ending with a capstone that trains a
# VAE built from your own pieces), then chapter 3 (13-14), chapters 4-5 (15-16),
# chapter 6 (17) and chapter 7 (18-19). In a terminal, in a folder of your own:
#
# ```bash
# python -m tinyvae.exercises list              # the exercises, with your progress
# python -m tinyvae.exercises start 3           # writes the skeleton ./ex03_activations.py
# python -m tinyvae.exercises check ex03_activations.py
# python -m tinyvae.exercises hint 3            # the next hint
# ```
#
# In a notebook, `check(3, (Tanh, Softplus, ELU))` does the same; `EXERCISES[3].task`
# is the task. Once an exercise passes, its module's docstring
# (`tinyvae/exercises/ex03_activations.py`) has the whole derivation.
