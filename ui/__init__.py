"""The Streamlit layer's shared code: widget <-> case mapping, shareable links, rendering.

``ui.state`` (pure: no streamlit import, so it can be tested directly) maps widgets to a case
and back and encodes links; ``ui.widgets`` and ``ui.render`` draw with streamlit;
``ui.compute`` caches the calls into the core; ``ui.active_priors`` is the session's prior
set and ``ui.priors_io`` its zip (pure); ``ui.dot`` draws the network as Graphviz text
(pure). Nothing here computes a probability or a verdict: the app reads widgets, builds a
:class:`model.case.Case`, calls one core function and renders what it returns.
"""
