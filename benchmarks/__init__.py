"""Benchmarks (``make bench``). Every figure is a ratio against a baseline measured in the same
run, because these machines are shared and noisy; absolute numbers are printed for context only."""
