#!/usr/bin/env bash
# The measurements behind docs/capacity.md, in one go (~30 minutes on a 2-core machine).
#
#   loadtests/capacity_campaign.sh OUT [MEDIA]
#
# MEDIA (default /tmp/lt/cap20k) is made first if missing: make_media.py's 20,000-item catalogue plus
# two 300 s feature films. A fresh state folder OUT/state makes the first run scan the library cold
# (its time is printed by run.py from the activity log). Then, one yaffw up per profile (2 api
# replicas of which Locust talks to one, 1 CPU transcode worker), short steps:
#   browse  : web-UI browsing users                       50,150,300   1.5 min each, 10 users/s ramp excluded
#   app     : Jellyfin app users (TV profile, a quarter of item pages end in a direct stream of Feature Alpha)
#                                                         25,75,150    1.5 min each
#   direct  : direct-play viewers of Feature Alpha (1080p H.264, 6 Mbit/s)   50,100,200   1.25 min each
#   hls     : transcoding viewers, 1080p -> 720p libx264 on the CPU worker    1,2,3        1.25 min each
# py-spy samples the target api replica for 30 s in the top step of browse and app (the knee), as
# raw collapsed stacks (OUT/<profile>-u<N>.pyspy.txt) plus one dump.
# Steps and minutes can be changed: BROWSE_STEPS, APP_STEPS, DIRECT_STEPS, HLS_STEPS (comma lists; the
# last browse and app step is the one profiled), BROWSE_MIN, APP_MIN, DIRECT_MIN, HLS_MIN; RUN_ARGS adds
# run.py options (a trial run on a busy machine: RUN_ARGS="--allow-load --quiet-wait 0").
# Every step waits for the 1-minute load average to fall below 0.75 x cores (run.py refuses it
# otherwise, so foreign load cannot slip into the figures); graphs are drawn by plot.py at the end.
set -u
OUT=$(realpath -m "${1:?usage: capacity_campaign.sh OUT [MEDIA]}")
MEDIA=$(realpath -m "${2:-/tmp/lt/cap20k}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY="$ROOT/.venv/bin/python"
PYSPY="$ROOT/.venv/bin/py-spy"
STATE="${STATE:-$OUT/state}"  # an existing state folder skips the cold scan
mkdir -p "$OUT"
cd "$ROOT" || exit 1

log() { echo "[$(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)] $*" | tee -a "$OUT/campaign.log"; }

if [ ! -d "$MEDIA/movies" ]; then
    log "making the media in $MEDIA"
    "$PY" loadtests/make_media.py "$MEDIA" --movies 10000 --shows 625 --films 2 --film-seconds 300
fi

# profile_at RUNLOG STEP_USERS NAME: once run.py prints "-- STEP_USERS users", wait for the ramp and
# sample the target api replica (the one whose PORT is the URL's) with py-spy for 30 s.
profile_at() {
    local runlog=$1 users=$2 name=$3 port pid
    until grep -q -- "-- $users users" "$runlog" 2>/dev/null; do
        sleep 2
        grep -q "^results:" "$runlog" 2>/dev/null && return
    done
    port=$(grep -o "starting yaffw up on http://127.0.0.1:[0-9]*" "$runlog" | grep -o "[0-9]*$")
    for p in $(pgrep -f "functions/api/main.py"); do
        if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "PORT=$port"; then pid=$p; fi
    done
    [ -n "${pid:-}" ] || { log "no api process on port $port to profile"; return; }
    sleep "${PROFILE_DELAY:-35}"  # the ramp (10 users/s) and a little steady state
    log "py-spy: api pid $pid, $name, 30 s"
    "$PYSPY" dump --pid "$pid" > "$OUT/$name.pyspy-dump.txt" 2>&1
    "$PYSPY" record --pid "$pid" --duration 30 --rate 100 --nonblocking --format raw \
        --output "$OUT/$name.pyspy.txt" > "$OUT/$name.pyspy.log" 2>&1
}

# run PROFILE USERS MINUTES [extra run.py args...] (LOADTEST_* from the caller's environment)
run() {
    local profile=$1 users=$2 minutes=$3
    shift 3
    log "== $profile: users $users, $minutes min per step"
    "$PY" loadtests/run.py --media "$MEDIA" --state-dir "$STATE" --profile "$profile" --users "$users" \
        --minutes "$minutes" --reset-stats --out "$OUT/$profile" --settle 15 --scan-timeout 1800 "$@" ${RUN_ARGS:-} \
        > "$OUT/$profile.log" 2>&1
    log "== $profile done (exit $?)"
    "$PY" loadtests/plot.py "$OUT/$profile" >> "$OUT/$profile.log" 2>&1
}

BROWSE_STEPS=${BROWSE_STEPS:-50,150,300}
APP_STEPS=${APP_STEPS:-25,75,150}
DIRECT_STEPS=${DIRECT_STEPS:-50,100,200}
HLS_STEPS=${HLS_STEPS:-1,2,3}
log "campaign start; machine: $(nproc) cores"
run browse "$BROWSE_STEPS" "${BROWSE_MIN:-1.5}" --spawn-rate 10 &
profile_at "$OUT/browse.log" "${BROWSE_STEPS##*,}" "browse-u${BROWSE_STEPS##*,}"
wait
LOADTEST_PLAY_FILTER=q=Alpha run app "$APP_STEPS" "${APP_MIN:-1.5}" --spawn-rate 10 &
profile_at "$OUT/app.log" "${APP_STEPS##*,}" "app-u${APP_STEPS##*,}"
wait
LOADTEST_PLAY_FILTER=q=Alpha run direct "$DIRECT_STEPS" "${DIRECT_MIN:-1.25}" --spawn-rate 10
LOADTEST_PLAY_FILTER=q=Alpha LOADTEST_SEEK_CHANCE=0 run hls "$HLS_STEPS" "${HLS_MIN:-1.25}"
log "campaign end"
