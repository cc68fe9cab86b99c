// The master playlist that came with the playback answer, handed to hls.js without asking the
// server again (issue 13: one round trip less before the first frame). hls.js takes a playlist
// loader class (config.pLoader); this one answers the first load of the master URL from the text it
// was given and passes every other load (media playlists, a later reload) to hls.js's own loader.
// Relative URIs in the playlist still resolve against the real master URL.
// Shared by player.js and loadtests/first_frame.py (the benchmark page plays as the player does).
(function () {
  "use strict";

  window.yaffwInlineMaster = function (Hls, masterUrl, text) {
    var Base = Hls.DefaultConfig.loader;
    var pending = text || null;

    function Loader(config) {
      this.inner = new Base(config);
      this.stats = this.inner.stats;
      this.context = null;
    }
    Loader.prototype.load = function (context, config, callbacks) {
      if (pending === null || context.type !== "manifest" || context.url !== masterUrl) {
        this.context = context;
        this.inner.load(context, config, callbacks);
        this.stats = this.inner.stats;
        return;
      }
      var body = pending;
      pending = null; // once: a reload of the master asks the server
      this.context = context;
      var stats = this.stats;
      var now = self.performance.now();
      stats.loading.start = stats.loading.first = stats.loading.end = now;
      stats.loaded = stats.total = body.length;
      // Asynchronously, as a network answer would come: hls.js is still setting up this load.
      Promise.resolve().then(function () {
        callbacks.onSuccess({ url: masterUrl, data: body }, stats, context, null);
      });
    };
    Loader.prototype.abort = function () { this.inner.abort(); };
    Loader.prototype.destroy = function () { this.inner.destroy(); };
    return Loader;
  };
})();
