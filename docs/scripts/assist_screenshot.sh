#!/usr/bin/env bash
# The magic wand and the live wire in a real window on Xvfb, driven by xdotool; -> docs/workbench_assist.png
# Needs: apt-get install -y --no-install-recommends xvfb xauth libxcb-icccm4 libxcb-keysyms1 xdotool imagemagick
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/xwb-assist.XXXXXX)
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
disp=:$((80 + RANDOM % 9))
Xvfb "$disp" -screen 0 1700x1100x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
export DISPLAY=$disp
.venv/bin/xwb synth "$work/bags" --kind baggage --count 1 --seed 4243 --occlusion easy >/dev/null 2>&1
.venv/bin/python docs/scripts/assist_screenshot.py "$work/bags" docs/workbench_assist.png
echo "screenshot: docs/workbench_assist.png (work folder $work)"
