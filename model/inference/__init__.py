"""Inference on the network: every way a posterior is computed, and the cohort scorer.

- :mod:`model.inference.compiled` the compiled exact engine (the production path; numba);
- :mod:`model.inference.exact` pgmpy variable elimination, the reference every faster
  engine is tested against, and ``resolve``/``default_priors`` for one case;
- :mod:`model.inference.batch` scoring a cohort file in chunks with the compiled engine;
- :mod:`model.inference.simulate` synthetic cohorts drawn from the network;
- :mod:`model.inference.implied` network-implied frequencies beside the published ones.

Layer: above ``model.network``; below ``model.analysis`` (``tests/test_layering.py``).
"""
