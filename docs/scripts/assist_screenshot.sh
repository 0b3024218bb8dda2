#!/usr/bin/env bash
# The magic wand, the live wire and (given a project with a click model) click-to-segment in a real window
# on Xvfb, driven by xdotool; -> docs/workbench_assist.png
#   docs/scripts/assist_screenshot.sh [PROJECT_WITH_CLICK_MODEL]   (its first scan's regions are removed in a copy)
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
if [ $# -ge 1 ]; then  # a copy: its MLflow store still points at the original's artifacts, which stay
  proj="$work/$(basename "$1")"; cp -r "$1" "$proj"
else
  proj="$work/bags"; .venv/bin/xwb synth "$proj" --kind baggage --count 1 --seed 4243 --occlusion easy >/dev/null 2>&1
fi
.venv/bin/python docs/scripts/assist_screenshot.py "$proj" docs/workbench_assist.png
echo "screenshot: docs/workbench_assist.png (work folder $work)"
