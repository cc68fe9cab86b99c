// yaffw web player: detect what this browser plays, ask the server how to play the item, play it,
// and report progress. Direct play uses the <video> element alone; HLS uses hls.js wherever Media
// Source Extensions exist (it seeks reliably) and the browser's own HLS only where they do not.
(function () {
  "use strict";

  var root = document.getElementById("player");
  if (!root) return;
  var video = document.getElementById("video");
  var info = document.getElementById("playback-info");
  var errorBox = document.getElementById("player-error");
  var itemId = root.getAttribute("data-item-id");
  var csrf = root.getAttribute("data-csrf");
  var saved = parseFloat(root.getAttribute("data-position")) || 0;
  var PROGRESS_EVERY_MS = 10000;
  var PLAYED_FRACTION = 0.9;

  var session = null; // the playback endpoint's answer
  var choice = {}; // the tracks asked for: {audio_index?, subtitle_index?} (restart() changes them)
  var hlsErrors = []; // every hls.js error of this page, fatal or not (tests read it)
  var hls = null;
  var timer = null;
  var reportedPlayed = false;
  var ended = false;

  // ---- capabilities ------------------------------------------------------------------------
  var MSE = window.MediaSource || window.ManagedMediaSource || null;

  function playable(mime) {
    if (MSE && MSE.isTypeSupported && MSE.isTypeSupported(mime)) return true;
    return video.canPlayType(mime) === "probably";
  }

  // Codec strings per FFmpeg name; H.264/HEVC profiles and levels are probed separately.
  var VIDEO = {
    h264: 'video/mp4; codecs="avc1.42E01E"', hevc: 'video/mp4; codecs="hvc1.1.6.L93.B0"',
    av1: 'video/mp4; codecs="av01.0.05M.08"', vp9: 'video/webm; codecs="vp9"', vp8: 'video/webm; codecs="vp8"',
  };
  var AUDIO = {
    aac: 'audio/mp4; codecs="mp4a.40.2"', mp3: 'audio/mpeg', opus: 'audio/webm; codecs="opus"',
    flac: 'audio/mp4; codecs="flac"', vorbis: 'audio/webm; codecs="vorbis"', ac3: 'audio/mp4; codecs="ac-3"',
    eac3: 'audio/mp4; codecs="ec-3"',
  };
  var H264_PROFILES = { "constrained baseline": "42E0", baseline: "4200", main: "4D00", high: "6400", "high 10": "6E00" };
  var H264_LEVELS = [30, 31, 32, 40, 41, 42, 50, 51, 52];
  var HEVC_PROFILES = { main: "1.6", "main 10": "2.4" };
  var HEVC_LEVELS = [93, 120, 123, 150, 153, 156];
  var CONTAINERS = { mp4: "video/mp4", webm: "video/webm", mkv: "video/x-matroska", mov: "video/quicktime" };

  function capabilities() {
    var caps = { containers: [], video_codecs: [], audio_codecs: [], video_profiles: {}, max_video_level: {} };
    Object.keys(CONTAINERS).forEach(function (name) {
      if (video.canPlayType(CONTAINERS[name]) !== "") caps.containers.push(name);
    });
    Object.keys(VIDEO).forEach(function (name) { if (playable(VIDEO[name])) caps.video_codecs.push(name); });
    Object.keys(AUDIO).forEach(function (name) { if (playable(AUDIO[name])) caps.audio_codecs.push(name); });
    var h264 = Object.keys(H264_PROFILES).filter(function (p) {
      return playable('video/mp4; codecs="avc1.' + H264_PROFILES[p] + '1E"');
    });
    if (h264.length) {
      caps.video_profiles.h264 = h264;
      var top = 0;
      H264_LEVELS.forEach(function (level) {
        if (playable('video/mp4; codecs="avc1.6400' + level.toString(16).toUpperCase().padStart(2, "0") + '"')) top = level;
      });
      if (top) caps.max_video_level.h264 = top;
    }
    var hevc = Object.keys(HEVC_PROFILES).filter(function (p) {
      return playable('video/mp4; codecs="hvc1.' + HEVC_PROFILES[p] + '.L93.B0"');
    });
    if (hevc.length) {
      caps.video_profiles.hevc = hevc;
      var topHevc = 0;
      HEVC_LEVELS.forEach(function (level) {
        if (playable('video/mp4; codecs="hvc1.1.6.L' + level + '.B0"')) topHevc = level;
      });
      if (topHevc) caps.max_video_level.hevc = topHevc;
    }
    caps.hls = Boolean(MSE) || video.canPlayType("application/vnd.apple.mpegurl") !== "";
    return caps;
  }

  // ---- server calls --------------------------------------------------------------------------
  function api(method, url, body, keepalive) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      keepalive: Boolean(keepalive),
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw new Error((data.error && data.error.message) || "HTTP " + r.status);
        return data;
      });
    });
  }

  function position() {
    return Number.isFinite(video.currentTime) ? video.currentTime : 0;
  }

  function report(keepalive) {
    if (!session || ended) return Promise.resolve();
    var pos = position();
    var duration = video.duration || parseFloat(root.getAttribute("data-duration")) || 0;
    if (duration && pos >= PLAYED_FRACTION * duration) reportedPlayed = true;
    root.setAttribute("data-reported", String(pos));
    return api("POST", session.progress_url, { position_seconds: pos, paused: video.paused }, keepalive)
      .catch(function (e) { console.warn("progress not saved:", e.message); });
  }

  function stop(keepalive) {
    if (!session) return Promise.resolve();
    var current = session;
    session = null;
    clearInterval(timer);
    // After the end, the position is the end: the server marks the item played and clears it.
    var pos = ended ? (video.duration || position()) : position();
    if (hls) { hls.destroy(); hls = null; }
    return api("DELETE", current.stop_url, { position_seconds: pos }, keepalive).catch(function () {});
  }

  // ---- playing ---------------------------------------------------------------------------------
  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  var LABELS = { direct_play: "Direct play", direct_stream: "Direct stream", transcode: "Transcoding" };

  var hlsLoading = null;
  function loadHls() {
    if (window.Hls) return Promise.resolve(window.Hls);
    if (!hlsLoading) {
      hlsLoading = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = root.getAttribute("data-hls-src");
        s.onload = function () { resolve(window.Hls); };
        s.onerror = function () { hlsLoading = null; reject(new Error("could not load hls.js")); };
        document.head.appendChild(s);
      });
    }
    return hlsLoading;
  }

  // A transcoded session's first fragments are short (0.5 to 2 s) and each arrives when the encoder
  // has made it. hls.js would read those waits as a slow network: its abandon rule gives up on a
  // fragment after half its duration, and its bandwidth estimate counts the wait, so it switched to
  // a lower variant at start, which restarts the encoder. So (1) the level hls.js starts with is
  // kept until a full-length fragment is buffered, then its automatic choice resumes; (2) a wait for
  // a fragment's first byte longer than WAIT_MS (the encoder at work, not the network) is left out
  // of the bandwidth sample.
  var WAIT_MS = 300;
  function steadyStart(Hls, player) {
    var held = false;
    player.on(Hls.Events.MANIFEST_PARSED, function () {
      if (player.levels.length > 1 && player.autoLevelEnabled) {
        player.loadLevel = player.firstLevel;
        held = true;
      }
    });
    player.on(Hls.Events.FRAG_LOADED, function (_, data) {
      var loading = data.frag.stats.loading;
      if (loading.first - loading.start > WAIT_MS) loading.start = loading.first;
    });
    player.on(Hls.Events.FRAG_BUFFERED, function (_, data) {
      var details = player.levels[data.frag.level] && player.levels[data.frag.level].details;
      if (held && details && data.frag.duration >= details.targetduration - 0.5) {
        held = false;
        player.loadLevel = -1; // automatic again
      }
    });
  }

  function attach(answer, start) {
    root.setAttribute("data-method", answer.method);
    root.setAttribute("data-session", answer.session_id);
    info.textContent = LABELS[answer.method] + (answer.reason && answer.method !== "direct_play" ? " · " + answer.reason : "");
    var seekTo = function () {
      if (start > 0 && Math.abs(video.currentTime - start) > 1) video.currentTime = start;
    };
    video.addEventListener("loadedmetadata", seekTo, { once: true });
    if (answer.method === "direct_play") {
      video.src = answer.url;
      return Promise.resolve();
    }
    if (MSE) {
      return loadHls().then(function (Hls) {
        if (!Hls.isSupported()) throw new Error("this browser cannot play HLS");
        var config = { startPosition: start > 0 ? start : -1 };
        var masterUrl = new URL(answer.url, location.href).href;
        // The playback answer carries the master playlist: hls.js takes it from there (no request).
        if (answer.master_playlist && window.yaffwInlineMaster) {
          config.pLoader = window.yaffwInlineMaster(Hls, masterUrl, answer.master_playlist);
        }
        hls = new Hls(config);
        hls.on(Hls.Events.ERROR, function (_, data) {
          hlsErrors.push({ details: data.details, type: data.type, fatal: Boolean(data.fatal), at: video.currentTime,
                           session: answer.session_id });
          if (data.fatal) showError("Playback failed: " + (data.details || data.type));
        });
        steadyStart(Hls, hls);
        // The first frame may sit a few ms after the start (encoder delay, one stream starting later
        // than the other): begin at the first buffered frame, else hls.js jumps that hole itself and
        // reports it as an error (bufferSeekOverHole).
        var toBufferStart = function () {
          var b = video.buffered;
          if (!b.length) return;
          hls.off(Hls.Events.BUFFER_APPENDED, toBufferStart);
          var gap = b.start(0) - video.currentTime;
          if (gap > 0 && gap < 1) video.currentTime = b.start(0);
        };
        hls.on(Hls.Events.BUFFER_APPENDED, toBufferStart);
        hls.loadSource(masterUrl);
        hls.attachMedia(video);
      });
    }
    video.src = answer.url; // native HLS (Safari on iOS without MSE)
    return Promise.resolve();
  }

  function play() {
    var attempt = video.play();
    if (attempt && attempt.catch) {
      attempt.catch(function () {
        var button = document.getElementById("click-to-play");
        button.hidden = false;
        button.onclick = function () { button.hidden = true; video.play().catch(function () {}); };
      });
    }
  }

  function start(at, paused) {
    errorBox.hidden = true;
    ended = false;
    reportedPlayed = false;
    var body = { capabilities: capabilities(), start_seconds: at, client: "yaffw web" };
    Object.keys(choice).forEach(function (k) { body[k] = choice[k]; });
    // A film with versions: the one picked on the item page (?source=), kept when the track changes.
    var source = (session && session.source_id) || new URLSearchParams(location.search).get("source");
    if (source) body.source = source;
    // hls.js loads while the server decides (and pre-warms the encoder): not after the answer.
    if (MSE) loadHls().catch(function () {});
    return api("POST", "/api/items/" + encodeURIComponent(itemId) + "/playback", body)
      .then(function (answer) {
        session = answer;
        showTracks(answer);
        return attach(answer, at);
      })
      .then(function () {
        // player_subtitles.js (and any other add-on) learns of each playback here.
        root.dispatchEvent(new CustomEvent("yaffw:attached", { detail: { session: session, hls: hls } }));
        if (!paused) play();
        timer = setInterval(function () { if (!video.paused) report(false); }, PROGRESS_EVERY_MS);
      })
      .catch(function (e) { showError("Cannot play this item: " + e.message); info.textContent = ""; });
  }

  video.addEventListener("pause", function () { if (!ended) report(false); });
  video.addEventListener("seeked", function () { report(false); });
  video.addEventListener("timeupdate", function () {
    var d = video.duration;
    if (!reportedPlayed && d && video.currentTime >= PLAYED_FRACTION * d) report(false);
  });
  video.addEventListener("ended", function () { ended = true; stop(false); info.textContent = "Finished"; });
  video.addEventListener("error", function () {
    if (video.error && session) showError("Playback failed (" + (video.error.message || "code " + video.error.code) + ")");
  });

  // ---- tracks ---------------------------------------------------------------------------------
  // Another audio track, or an image subtitle (burned in by the server), is another session: the
  // player ends this one and opens the next at the current position, playing on if it was playing.
  var track = document.getElementById("audio-track");

  function showTracks(answer) {
    root.setAttribute("data-audio-index", answer.audio_index === null ? "" : String(answer.audio_index));
    root.setAttribute("data-burn-subtitle", answer.burn_subtitle === null || answer.burn_subtitle === undefined
      ? "" : String(answer.burn_subtitle));
    if (track && answer.audio_index !== null && answer.audio_index !== undefined) track.value = String(answer.audio_index);
  }

  // choice: {audio_index?, subtitle_index?}; a field set to null goes back to the default.
  function restart(next) {
    Object.keys(next || {}).forEach(function (k) {
      if (next[k] === null || next[k] === undefined) delete choice[k];
      else choice[k] = next[k];
    });
    var at = position();
    var paused = video.paused && video.currentTime > 0; // a paused film stays paused
    return stop(false).then(function () {
      video.removeAttribute("src");
      video.load();
      return start(at, paused);
    });
  }

  if (track) {
    track.addEventListener("change", function () { restart({ audio_index: parseInt(track.value, 10) }); });
  }

  document.getElementById("stop").addEventListener("click", function () {
    video.pause();
    stop(false).then(function () { window.location.href = root.getAttribute("data-back"); });
  });

  // Leaving the page (close, navigation, tab discarded): save the position and end the session.
  // fetch(keepalive) outlives the page like sendBeacon and, unlike it, can carry the CSRF header.
  window.addEventListener("pagehide", function () { stop(true); });
  window.addEventListener("pageshow", function (event) { if (event.persisted) window.location.reload(); });

  function clock(seconds) {
    var s = Math.floor(seconds);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(r).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }

  if (saved > 0 && root.getAttribute("data-resume") !== "1") {
    var dialog = document.getElementById("resume-dialog");
    document.getElementById("resume-at").textContent = clock(saved);
    dialog.hidden = false;
    info.textContent = "";
    document.getElementById("resume-yes").focus();
    document.getElementById("resume-yes").addEventListener("click", function () { dialog.hidden = true; start(saved); });
    document.getElementById("resume-no").addEventListener("click", function () { dialog.hidden = true; start(0); });
  } else {
    start(saved > 0 ? saved : 0);
  }

  window.yaffwPlayer = { capabilities: capabilities, report: report, stop: stop, restart: restart,
                         hlsErrors: hlsErrors, api: api };
})();
