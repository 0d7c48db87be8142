"""Scoring a cohort: metrics for the network's probability and the criteria verdicts,
and comparison of two prior sets."""
