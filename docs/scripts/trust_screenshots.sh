#!/usr/bin/env bash
# Screenshots of the workbench's trust features, taken as a user would meet them: two real `xwb gui`
# windows on an X server (Xvfb), driven with xdotool keys and clicks, grabbed with ImageMagick.
#   - docs/workbench_readonly.png: the second window on a project, read-only, every edit widget disabled
#   - docs/workbench_pending.png:  Ctrl+D on a scan with unreviewed model proposals asks first
# Needs: apt-get install -y --no-install-recommends xvfb xauth libxcb-icccm4 libxcb-keysyms1 xdotool imagemagick
# Usage: docs/scripts/trust_screenshots.sh            (from the repository root, after `make venv`)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
XWB=.venv/bin/xwb
work=$(mktemp -d /tmp/xwb-trust.XXXXXX)
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
disp=:$((90 + RANDOM % 9))
Xvfb "$disp" -screen 0 1800x1100x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; kill "$xvfb" 2>/dev/null || true; }
trap cleanup EXIT
export DISPLAY=$disp

proj="$work/baggage"
$PY - "$proj" <<'EOF'
import sys
import numpy as np
from datasets.project import Project
from datasets.regions import Region
from datasets.synth.build import synth_project

synth_project(sys.argv[1], "baggage", 4, seed=5, size=(384, 512))
with Project.open(sys.argv[1]) as p:
    im = p.images()[0]
    p.store.add_regions(im.id, [
        Region(2, polygon=np.array([[60, 60], [180, 70], [170, 140], [70, 130]], float), state="proposal",
               source="model:baggage-seg/3", score=0.91, author="xwb prelabel"),
        Region(9, polygon=np.array([[300, 200], [380, 200], [380, 300], [300, 300]], float), state="proposal",
               source="model:baggage-seg/3", score=0.64, author="xwb prelabel")])
EOF

wait_window() {  # wait_window NAME -> prints the window id
  for _ in $(seq 1 300); do
    id=$(xdotool search --onlyvisible --name "$1" 2>/dev/null | head -1 || true)
    if [ -n "$id" ]; then echo "$id"; return 0; fi
    sleep 0.1
  done
  echo "no window named $1" >&2; return 1
}

$XWB gui "$proj" --annotator alice >"$work/writer.log" 2>&1 &
pids+=($!)
writer=$(wait_window "xwb — baggage$")
xdotool windowsize "$writer" 1700 1000 windowmove "$writer" 0 0
$XWB gui "$proj" --annotator bob >"$work/reader.log" 2>&1 &
pids+=($!)
reader=$(wait_window "read-only")
xdotool windowsize "$reader" 1700 1000 windowmove "$reader" 50 50
sleep 2
# the reader clicks into the comment box and types, ticks a tag and presses Ctrl+D: nothing takes input
xdotool windowraise "$reader" windowfocus --sync "$reader"
xdotool mousemove --window "$reader" 1560 905 click 1 type "zzz"
xdotool mousemove --window "$reader" 1445 681 click 1
xdotool key --clearmodifiers ctrl+d
sleep 1
import -window "$reader" docs/workbench_readonly.png
xdotool windowunmap "$reader" || true

# the writer presses Ctrl+D on a scan with two unreviewed proposals
xdotool windowraise "$writer" windowfocus --sync "$writer"
sleep 1
xdotool key --clearmodifiers ctrl+d
sleep 1.5
import -window root -crop 1700x1000+0+0 docs/workbench_pending.png
xdotool key --clearmodifiers Escape   # cancel: nothing changes
sleep 0.5
$PY - "$proj" <<'EOF'
import sys
from datasets.project import Project
with Project.open(sys.argv[1], readonly=True) as p:
    im = p.images()[0]
    print("after the reader typed and the writer cancelled:", repr(im.comment), im.status,
          [r.state for r in p.store.regions(im.id, include_rejected=True)])
EOF
echo "saved docs/workbench_readonly.png docs/workbench_pending.png"
