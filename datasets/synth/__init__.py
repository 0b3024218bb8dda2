"""Physically grounded synthetic dual-energy X-ray scans and threat image projection.

Real customs scans are confidential; these are the project's built-in data.
Scenes are built in attenuation space (Beer-Lambert, two energies), objects
compose by adding attenuation, and every contraband object carries an exact
ground-truth mask. See ``physics`` for the forward model and ``tip`` for
threat image projection.
"""
from datasets.synth.physics import MATERIALS, REGIMES, Detector, Regime, render_counts
from datasets.synth.tip import project_threat

# share of scans drawn without contraband by default: a training set rich in positives. A port's real
# traffic is mostly clean: ``xwb synth --clean 0.95 --undeclared 0.05`` gives a realistic base rate.
CLEAN = 0.15

__all__ = ["CLEAN", "Detector", "MATERIALS", "Regime", "REGIMES", "render_counts", "project_threat"]
