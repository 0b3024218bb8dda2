"""Inference: the predictor API, its outputs (files, proposals, flags) and the labelling queue."""
