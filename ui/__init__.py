"""The Streamlit layer's shared code: widget <-> case mapping, shareable links, rendering.

``ui.state`` is pure (no streamlit import) so it can be tested directly; ``ui.widgets`` and
``ui.render`` draw with streamlit. Nothing here computes a probability or a verdict: the app
reads widgets, builds a :class:`model.case.Case`, calls one core function and renders what it
returns.
"""
