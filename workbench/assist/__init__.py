"""The geometry of assisted labelling, free of Qt: what a click, a drag or an anchor turns into.

Tools in ``workbench/tools/`` translate mouse gestures into calls here and the results into undo commands;
the benchmark (``benchmarks/bench_assist.py``) drives the same functions with a scripted annotator. Every
function works on a window around the gesture, never on the whole scan: a scan may be 2048 x 50 000 px.
"""
