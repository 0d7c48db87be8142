"""Teaching mode: published cases walked step by step, and guided demonstrations.

``library`` loads the cases (data in ``cases/*.toml``); ``walk`` steps through one case with
the network and the criteria; ``demos`` builds the guided lessons (base rates, explaining
away, criteria versus probability, serum versus plasma VEGF); ``claims`` checks what a
teaching note says about the numbers against the step; ``figures`` draws a case's trajectory.
"""
