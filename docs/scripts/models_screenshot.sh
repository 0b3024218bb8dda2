#!/usr/bin/env bash
# The Models panel in a real window on Xvfb, driven by xdotool; -> docs/workbench_models.png
#   docs/scripts/models_screenshot.sh PROJECT_WITH_A_SEG_MODEL   (a copy is used; e.g. the pool project that
#   benchmarks/bench_active.py leaves in its --out folder)
# Needs: apt-get install -y --no-install-recommends xvfb xauth libxcb-icccm4 libxcb-keysyms1 xdotool imagemagick
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/xwb-models.XXXXXX)
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state" HF_HUB_OFFLINE=1 NO_ALBUMENTATIONS_UPDATE=1
disp=:$((80 + RANDOM % 9))
Xvfb "$disp" -screen 0 1700x1050x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
export DISPLAY=$disp
proj="$work/$(basename "$1")"; cp -r "$1" "$proj"   # its MLflow store still points at the original's artifacts
.venv/bin/python docs/scripts/models_screenshot.py "$proj" docs/workbench_models.png
echo "screenshot: docs/workbench_models.png (work folder $work)"
