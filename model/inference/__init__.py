"""Inference on the network: :mod:`model.inference.exact` (pgmpy, the reference)."""
