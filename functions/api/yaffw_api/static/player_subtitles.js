// yaffw web player: the subtitle menu (issue 13). player.js announces each playback it attaches with a
// "yaffw:attached" event ({session, hls}); this asks the server for the item's subtitle streams and
// the one to show (the user's choice for the item, else their preferences), fills the menu, and shows
// it: text subtitles through hls.js's subtitle renditions when playing HLS, as a <track> with the whole
// WebVTT otherwise; picture subtitles by window.yaffwPlayer.restart({subtitle_index}), which reopens
// the playback with them burned in. Every choice is saved for the item (PUT .../subtitle-choice).
(function () {
  "use strict";

  var root = document.getElementById("player");
  var select = document.getElementById("subtitle-track");
  if (!root || !select) return;
  var video = document.getElementById("video");
  var itemId = root.getAttribute("data-item-id");
  var OFF = "off";

  var menu = []; // entries of GET /api/items/{id}/subtitles
  var current = { session: null, hls: null };

  // player.js's request helper (same-origin, CSRF header, JSON errors as Error messages).
  function api(method, url, body) {
    return window.yaffwPlayer.api(method, url, body);
  }

  function entry(index) {
    if (index === null || index === undefined) return null;
    for (var i = 0; i < menu.length; i++) if (menu[i].index === index) return menu[i];
    return null;
  }

  function fill() {
    while (select.options.length) select.remove(0);
    select.add(new Option("Off", OFF));
    menu.forEach(function (s) {
      var kind = s.kind === "image" ? " (image)" : "";
      select.add(new Option(s.label + kind, String(s.index)));
    });
    select.closest("label").hidden = menu.length === 0;
  }

  // <track> elements of a direct play (one per text stream, made for each playback).
  function directTracks() {
    Array.prototype.slice.call(video.querySelectorAll("track[data-yaffw]")).forEach(function (t) { t.remove(); });
    menu.forEach(function (s) {
      if (s.kind !== "text" || !s.url) return;
      var t = document.createElement("track");
      t.kind = "subtitles";
      t.label = s.label;
      if (s.language) t.srclang = s.language;
      t.src = s.url;
      t.setAttribute("data-yaffw", String(s.index));
      video.appendChild(t);
    });
  }

  function hlsTrackFor(hls, index) {
    var tracks = hls.subtitleTracks || [];
    var marker = "/subtitles/" + index + "/";
    for (var i = 0; i < tracks.length; i++) if ((tracks[i].url || "").indexOf(marker) !== -1) return i;
    return -1;
  }

  // hls.js adds the cue objects it had before again when a track comes back on, and Chromium never
  // makes a removed and re-added cue object active: after each change of track, each cue of the
  // showing track is replaced once by a fresh copy (same id, so hls.js does not add it again).
  var epoch = 0; // changes with each track change; a cue copied in the current one is left alone
  var CUE_FIELDS = ["line", "lineAlign", "position", "positionAlign", "size", "align", "vertical", "snapToLines"];

  function freshCues() {
    if (typeof window.VTTCue === "undefined") return;
    Array.prototype.forEach.call(video.textTracks, function (t) {
      if (t.mode !== "showing" || !t.cues) return;
      Array.prototype.slice.call(t.cues).forEach(function (c) {
        if (c.yaffwEpoch === epoch || !(c instanceof window.VTTCue)) return;
        var copy = new window.VTTCue(c.startTime, c.endTime, c.text);
        copy.id = c.id;
        CUE_FIELDS.forEach(function (f) { try { copy[f] = c[f]; } catch (e) { /* not settable here */ } });
        copy.yaffwEpoch = epoch;
        t.removeCue(c);
        t.addCue(copy);
      });
    });
  }

  function watch(hls) {
    if (!window.Hls || hls.yaffwSubtitles) return;
    hls.yaffwSubtitles = true;
    hls.on(window.Hls.Events.SUBTITLE_FRAG_PROCESSED, freshCues);
    hls.on(window.Hls.Events.SUBTITLE_TRACK_SWITCH, function () { setTimeout(freshCues, 0); });
  }
  // Cues put back from hls.js's cache come without an event: look again as the time moves.
  video.addEventListener("timeupdate", function () { if (current.hls) freshCues(); });
  video.addEventListener("seeked", function () { if (current.hls) freshCues(); });

  function showText(index) {
    var hls = current.hls;
    if (hls) {
      watch(hls);
      var apply = function () {
        // Only the track changes (-1: none); hls.subtitleDisplay stays on, as turning it off and on
        // again leaves Chromium's activeCues empty for the cues hls.js adds back.
        epoch += 1;
        hls.subtitleTrack = index === null ? -1 : hlsTrackFor(hls, index);
      };
      // The master playlist may not be parsed yet: pick the track once hls.js knows them.
      if ((hls.subtitleTracks || []).length || !window.Hls) apply();
      else hls.once(window.Hls.Events.SUBTITLE_TRACKS_UPDATED, apply);
      return;
    }
    var own = video.querySelectorAll("track[data-yaffw]");
    if (own.length) {
      Array.prototype.slice.call(own).forEach(function (t) {
        t.track.mode = index !== null && t.getAttribute("data-yaffw") === String(index) ? "showing" : "disabled";
      });
      return;
    }
    // Native HLS: the browser's tracks from the renditions, named as the menu names them.
    var e = entry(index);
    Array.prototype.forEach.call(video.textTracks, function (t) {
      t.mode = e && t.label === e.label ? "showing" : "disabled";
    });
  }

  function show(index) {
    select.value = index === null ? OFF : String(index);
    root.setAttribute("data-subtitle", index === null ? "" : String(index));
    var e = entry(index);
    showText(e && e.kind === "text" ? index : null);
  }

  function burned() {
    var b = current.session && current.session.burn_subtitle;
    return b === null || b === undefined ? null : b;
  }

  root.addEventListener("yaffw:attached", function (event) {
    current = event.detail || { session: null, hls: null };
    var s = current.session;
    if (!s) return;
    var query = "?source=" + encodeURIComponent(s.source_id || itemId);
    if (s.audio_index !== null && s.audio_index !== undefined) query += "&audio_index=" + s.audio_index;
    api("GET", "/api/items/" + encodeURIComponent(itemId) + "/subtitles" + query)
      .then(function (data) {
        if (current.session !== s) return; // another playback started meanwhile
        menu = data.subtitles || [];
        fill();
        // Direct play gets <track>s; native HLS (no MSE) has the playlist's renditions already.
        if (!current.hls && s.method === "direct_play") directTracks();
        var wanted = burned() !== null ? burned() : data.selected;
        var e = entry(wanted);
        if (e && e.kind === "image" && burned() === null && window.yaffwPlayer && window.yaffwPlayer.restart) {
          // The default is a picture subtitle: reopen with it burned in.
          window.yaffwPlayer.restart({ subtitle_index: wanted });
          return;
        }
        show(wanted === undefined ? null : wanted);
      })
      .catch(function (e) { console.warn("subtitles unavailable:", e.message); });
  });

  select.addEventListener("change", function () {
    var index = select.value === OFF ? null : parseInt(select.value, 10);
    var e = entry(index);
    var saved = api("PUT", "/api/items/" + encodeURIComponent(itemId) + "/subtitle-choice", { stream_index: index })
      .catch(function (err) { console.warn("subtitle choice not saved:", err.message); });
    var restart = window.yaffwPlayer && window.yaffwPlayer.restart;
    if (e && e.kind === "image") {
      if (restart) saved.then(function () { restart({ subtitle_index: index }); });
      return;
    }
    if (burned() !== null && restart) {
      // Leaving a burned-in subtitle: reopen without it; the saved choice is shown then.
      saved.then(function () { restart({ subtitle_index: null }); });
      return;
    }
    show(index);
  });
})();
