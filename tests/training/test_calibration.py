"""Calibration is held once, in the core; the copy a logged model carries must agree with it."""
import numpy as np

from datasets import calibration
from training.nets import inputs, model_code


def test_the_logged_models_attenuation_is_the_cores_floored_at_zero():
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 65536, (2, 17, 23)).astype(np.uint16)  # includes counts above I0 and below dark
    i0, dark = [60000.0, 52000.0], 120.0
    core = calibration.attenuation(counts, np.asarray(i0)[:, None, None], dark)
    assert (core < 0).any() and np.isfinite(core).all()
    np.testing.assert_allclose(model_code.attenuation(counts, i0, dark), np.maximum(core, 0), rtol=1e-6)


def test_scanner_facts_take_the_files_own_else_the_full_scale_of_the_bit_depth():
    assert calibration.scanner_facts({"i0": [61000, 59000], "dark": 80}, 3) == ([61000.0, 59000.0, 59000.0], 80.0)
    assert calibration.scanner_facts({}, 2, 12) == ([4095.0, 4095.0], 0.0)
    assert calibration.scanner_facts(None, 1) == ([65535.0], 0.0)
    assert inputs.InputKind("gray", 12).full_scale == calibration.full_scale(12) == 4095.0

