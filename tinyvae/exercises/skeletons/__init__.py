"""The files a learner starts from, one per exercise: ``python -m tinyvae.exercises start N``
copies ``exNN_<name>.py`` into the current folder. Each states its task in its docstring."""
