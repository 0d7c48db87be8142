"""poems-dx core: everything except the Streamlit screens (``app.py``, ``pages/``, ``ui/``).

The layers, lowest first; a module imports only its own layer and those below
(``tests/test_layering.py`` enforces it, and ``model/`` never imports streamlit):

1. ``exceptions``, ``constants``, ``inputs`` (the bounded readers), ``vocabulary``,
   ``units``, ``codes`` (LOINC / SNOMED CT / ICD-10-CM);
2. ``measurements`` (values -> states, cited thresholds);
3. ``case`` (the case file), ``case_columns`` (cases as columns), ``case_schema``, ``fhir``
   (FHIR bundle -> case), ``cohort/format.py``, and the network contract
   ``network/structure.py``;
4. ``criteria/`` and ``parameters/`` (the priors);
5. ``network/`` (tables, pgmpy builder, evidence);
6. ``inference/`` (compiled engine, pgmpy reference, simulation) and ``cohort/`` (the scorer);
7. ``analysis/`` (contributions, next tests, uncertainty);
8. ``assessment`` (one patient's answer);
9. ``report``, ``export``, ``bench``, ``evaluation/``, ``teaching/``;
10. ``cli/`` (and, outside this package, ``ui/``, ``pages/``, ``app.py``).
"""
