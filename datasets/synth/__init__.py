"""Physically grounded synthetic dual-energy X-ray scans and threat image projection.

Real customs scans are confidential; these are the project's built-in data.
Scenes are built in attenuation space (Beer-Lambert, two energies), objects
compose by adding attenuation, and every contraband object carries an exact
ground-truth mask. See ``physics`` for the forward model and ``tip`` for
threat image projection.
"""
from datasets.synth.physics import Detector, MATERIALS, Regime, REGIMES, render_counts
from datasets.synth.tip import project_threat

__all__ = ["Detector", "MATERIALS", "Regime", "REGIMES", "render_counts", "project_threat"]
