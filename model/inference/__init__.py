"""Inference on the network: every way a posterior is computed, and the cohort scorer.

- :mod:`model.inference.compiled` the compiled exact engine (the production path; numba),
  with its parts in ``compiled_structure``, ``compiled_tables``, ``compiled_batches`` and
  ``compiled_kernel``;
- :mod:`model.inference.engine` the engine for a case: ``engine_for(priors, setting)``
  (cached), ``resolve`` (setting and priors of one case), ``default_priors``;
- :mod:`model.inference.exact` pgmpy variable elimination, the reference every faster
  engine is tested against;
- :mod:`model.inference.batch` the cohort scorer under its first name (it lives in
  :mod:`model.cohort`);
- :mod:`model.inference.simulate` synthetic cohorts drawn from the network;
- :mod:`model.inference.implied` network-implied frequencies beside the published ones.

Layer: above ``model.network``; below ``model.analysis`` (``tests/test_layering.py``).
"""
