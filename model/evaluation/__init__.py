"""Evaluation of the tool on labelled cohorts, and comparison of two prior sets.

- :mod:`model.evaluation.cohort` what evaluation adds to the cohort format: the label column,
  ignored columns and rows left out (files are read by :mod:`model.cohort.format`, the one
  cohort reader);
- :mod:`model.evaluation.evaluate` the network's and every rule set's performance;
- :mod:`model.evaluation.metrics` AUC, Brier score, log loss, calibration, sensitivity and
  specificity;
- :mod:`model.evaluation.compare` which parameters differ between two priors folders and
  what that changes; :mod:`model.evaluation.bundled` the bundled published cohort;
  :mod:`model.evaluation.plots` the reliability diagram.
"""
