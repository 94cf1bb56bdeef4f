"""handcalc: one training step of a small neural network, computed the way it is done by hand."""

__version__ = "0.1.0"
