#!/usr/bin/env bash
# The workbench on a pseudo-colour project (8-bit RGB PNGs, the SIXray style) with labels another tool wrote:
# a labelme file with a rectangle, a circle, one object in two parts (group_id) and an __ignore__ area,
# imported with `xwb import labelme`, shown in a real `xwb gui` window on Xvfb, grabbed with ImageMagick.
#   -> docs/workbench_real_files.png
# Needs: apt-get install -y --no-install-recommends xvfb xauth libxcb-icccm4 libxcb-keysyms1 xdotool imagemagick
set -euo pipefail
cd "$(dirname "$0")/../.."
XWB=.venv/bin/xwb
work=$(mktemp -d /tmp/xwb-real.XXXXXX)
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
disp=:$((80 + RANDOM % 9))
Xvfb "$disp" -screen 0 1800x1100x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; kill "$xvfb" 2>/dev/null || true; }
trap cleanup EXIT
export DISPLAY=$disp

proj="$work/sixray"
$XWB synth "$proj" --kind baggage --count 3 --seed 4 --size 384x512 --render pseudo-colour >/dev/null 2>&1
img=$(cd "$proj" && ls images/*.png | head -1)
cat > "$proj/images/$(basename "${img%.png}").json" <<EOF
{"version": "5.5.0", "flags": {}, "imagePath": "$(basename "$img")", "imageData": null,
 "imageHeight": 384, "imageWidth": 512,
 "shapes": [
  {"label": "knife", "shape_type": "rectangle", "points": [[40.5, 300.2], [160.0, 384.4]], "group_id": null, "description": "", "flags": {}, "mask": null},
  {"label": "drugs", "shape_type": "circle", "points": [[420.0, 90.0], [455.5, 90.0]], "group_id": null, "description": "", "flags": {}, "mask": null},
  {"label": "firearm", "shape_type": "polygon", "points": [[220, 40], [300, 40], [300, 70], [220, 70]], "group_id": 1, "description": "barrel", "flags": {}, "mask": null},
  {"label": "firearm", "shape_type": "polygon", "points": [[280, 70], [300, 70], [300, 120], [280, 120]], "group_id": 1, "description": "grip", "flags": {}, "mask": null},
  {"label": "__ignore__", "shape_type": "polygon", "points": [[330, 220], [470, 220], [470, 330], [330, 330]], "group_id": null, "description": "", "flags": {}, "mask": null},
  {"label": "knife", "shape_type": "linestrip", "points": [[10, 10], [30, 30]], "group_id": null, "description": "", "flags": {}, "mask": null}
 ]}
EOF
$XWB import labelme "$proj" "$proj/images" | tee "$work/import.txt"
$XWB export labelme "$proj" "$work/lm" >/dev/null
$XWB gui "$proj" --annotator alice >"$work/gui.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
  win=$(xdotool search --onlyvisible --name "xwb — sixray" 2>/dev/null | head -1 || true)
  [ -n "$win" ] && break
  sleep 0.1
done
xdotool windowsize "$win" 1700 1000 windowmove "$win" 0 0
sleep 3
import -window root -crop 1700x1000+0+0 docs/workbench_real_files.png
echo "export round trip:"; grep -o '"shape_type": "[a-z]*"' -r "$work/lm" | sort | uniq -c
echo "screenshot: docs/workbench_real_files.png (work folder $work)"
