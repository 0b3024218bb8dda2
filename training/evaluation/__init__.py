"""Measuring: metrics, bootstrap intervals, frozen-split evaluation, comparisons and plots."""
