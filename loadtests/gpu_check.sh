#!/usr/bin/env bash
# Run yaffw's nvenc path for real on a machine with an NVIDIA GPU:
#   bash loadtests/gpu_check.sh            (from the repository root)
# 1. bare FFmpeg: testsrc → h264_nvenc;
# 2. the exact command line yaffw builds for YAFFW_HWACCEL=nvenc (lib/yaffw/media/ffmpeg.py), on an
#    8-bit H.264 and a 10-bit HEVC source, from segment 0 and after a seek; every segment ffprobed.
# Needs ffmpeg/ffprobe built with nvenc/cuda and python3 (no virtualenv: it imports lib/ only).
set -euo pipefail
cd "$(dirname "$0")/.."
# GPU_CHECK_HWACCEL=none runs step 2 with the software path (a dry run of this script without a GPU).
hw=${GPU_CHECK_HWACCEL:-nvenc}
work=$(mktemp -d /tmp/yaffw-gpu.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "== GPU"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || echo "nvidia-smi missing"
echo "== ffmpeg"; ffmpeg -hide_banner -version | head -1
if [ "$hw" = nvenc ]; then
ffmpeg -hide_banner -encoders 2>/dev/null | grep -E "nvenc" || { echo "FAIL: this ffmpeg has no nvenc encoder"; exit 2; }
echo "== 1. bare h264_nvenc on testsrc"
start=$(date +%s.%N)
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=24:duration=10 \
  -c:v h264_nvenc -preset p4 -b:v 5M "$work/bare.mp4"
echo "ok: 10 s of 1080p in $(awk "BEGIN{print $(date +%s.%N) - $start}") s"
fi

echo "== sources"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=24:duration=20 \
  -f lavfi -i sine=duration=20 -c:v libx264 -preset ultrafast -g 48 -c:a aac "$work/h264.mkv"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=24:duration=20 \
  -f lavfi -i sine=duration=20 -c:v libx265 -preset ultrafast -x265-params log-level=error:keyint=48 \
  -pix_fmt yuv420p10le -c:a aac "$work/hevc10.mkv" || echo "(no libx265: HEVC source skipped)"

status=0
for src in "$work/h264.mkv" "$work/hevc10.mkv"; do
  [ -f "$src" ] || continue
  for start_segment in 0 2; do
    out="$work/out-$(basename "$src")-$start_segment"; mkdir -p "$out"
    PYTHONPATH=lib python3 - "$src" "$out" "$start_segment" "$hw" > "$work/argv" <<'EOF'
import sys
from pathlib import Path
from yaffw.media import ffmpeg, hls
from yaffw.queue import AudioTarget
src, out, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
variant = hls.Variant("720p", 1280, 720, 3_000_000, 4_628_000, "avc1.64001f,mp4a.40.2")
spec = ffmpeg.EncodeSpec(source=src, variant=variant, starts=hls.fixed_boundaries(20.0, 6), start_segment=n,
                         out_dir=out, audio=AudioTarget("aac", 2, 128000, 1),
                         audio_index=1, duration=20.0)
sys.stdout.write("\0".join(ffmpeg.build(spec, ffmpeg.hwaccel(sys.argv[4]))))
EOF
    mapfile -d '' -t argv < "$work/argv"
    echo "== 2. yaffw $hw args: $(basename "$src") from segment $start_segment"
    echo "   ${argv[*]}"
    start=$(date +%s.%N)
    if listed=$("${argv[@]}" 2>"$out.err"); then
      echo "   made: $(echo $listed) in $(awk "BEGIN{print $(date +%s.%N) - $start}") s"
      for f in "$out"/*.ts; do
        line=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height,start_time \
          -of csv=p=0 "$f" | head -1) || { echo "   FAIL: ffprobe rejects $f"; status=1; }
        echo "   $(basename "$f"): $line"
      done
    else
      echo "   FAIL: ffmpeg exited $?:"; tail -5 "$out.err"; status=1
    fi
  done
done
[ $status = 0 ] && echo "GPU CHECK PASSED" || echo "GPU CHECK FAILED"
exit $status
