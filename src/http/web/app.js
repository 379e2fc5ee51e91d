// Refreshes "now" and "next" from /api/now every 20 s. The server-rendered text stays when
// the API is unreachable. Values are written with textContent only (never as HTML).
// "Listen from the start" (#from-start, when the station has HLS): plays the HLS playlist
// from the instant what is on air started (/api/now's `now.start`), found through the
// segments' PROGRAM-DATE-TIME (the earliest segment when it started before the window).
// hls.js (from the path the operator configured) where Media Source Extensions exist,
// else the browser's native HLS (Safari, iOS).
(function () {
  "use strict";
  var box = document.querySelector(".onair");
  if (!box || !window.fetch) return;
  var lang = document.documentElement.lang || "fr";
  var tz = box.getAttribute("data-tz") || undefined;
  function hm(iso) {
    try {
      return new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: tz });
    } catch (e) { return ""; }
  }
  function fill(id, item) {
    var dd = document.getElementById(id);
    if (!dd || !item) return;
    dd.textContent = "";
    var a = document.createElement("a");
    a.href = "/shows/" + encodeURIComponent(item.show || "") + (lang === "en" ? "?lang=en" : "");
    a.textContent = item.title || item.show || "";
    dd.appendChild(a);
    if (item.start && item.end) {
      var w = document.createElement("span");
      w.className = "when";
      w.textContent = " " + hm(item.start) + "–" + hm(item.end);
      dd.appendChild(w);
    }
  }
  function refresh() {
    fetch(box.getAttribute("data-now-url") || "/api/now", { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d) return;
        fill("now", d.now);
        fill("next", d.next);
        onAirSince = d.now && d.now.start ? Date.parse(d.now.start) : null;
        var b = document.getElementById("from-start");
        if (b) b.hidden = !(onAirSince && playable(b) && (d.now.kind === "show" || d.now.kind === "live"));
        var l = document.getElementById("listeners");
        if (l && typeof d.listeners === "number") {
          // Every output's listeners (the MP3 stream's, HLS sessions), else the stream's.
          var n = d.listeners, by = d.listeners_by_output;
          if (by) {
            n = 0;
            for (var k in by) n += by[k] || 0;
          }
          l.textContent = (lang === "en" ? "Listeners: " : "Auditeurs : ") + n;
          l.hidden = false;
        }
      })
      .catch(function () {});
  }
  var onAirSince = null;
  var session = Math.random().toString(36).slice(2) + Date.now().toString(36);

  // Media time of instant `at` (ms) in hls.js fragments; the first fragment when earlier.
  function position(frags, at) {
    for (var i = 0; i < frags.length; i++) {
      var f = frags[i];
      if (f.programDateTime && at < f.programDateTime + f.duration * 1000) {
        return f.start + Math.max(0, at - f.programDateTime) / 1000;
      }
    }
    return frags.length ? frags[frags.length - 1].start : 0;
  }

  function withHlsJs(audio, url, at, btn) {
    var hls = new window.Hls({ autoStartLoad: false, enableWorker: false });
    var started = false;
    window.antenneHls = hls;
    function start(details) {
      if (started || !details || !details.fragments.length) return;
      started = true;
      var pos = position(details.fragments, at);
      btn.setAttribute("data-position", String(pos));
      hls.startLoad(pos);
      audio.play().catch(function () {});
    }
    hls.on(window.Hls.Events.LEVEL_LOADED, function (e, data) { start(data.details); });
    hls.on(window.Hls.Events.MANIFEST_PARSED, function (e, data) {
      start(data.levels && data.levels[0] && data.levels[0].details);
    });
    hls.loadSource(url);
    hls.attachMedia(audio);
  }

  function native(audio, url, at, btn) {
    audio.src = url;
    audio.addEventListener("loadedmetadata", function once() {
      audio.removeEventListener("loadedmetadata", once);
      var d = audio.getStartDate ? audio.getStartDate() : null;
      var pos = d && !isNaN(d.getTime()) ? Math.max(0, (at - d.getTime()) / 1000) : 0;
      if (audio.seekable.length) pos = Math.max(pos, audio.seekable.start(0));
      btn.setAttribute("data-position", String(pos));
      audio.currentTime = pos;
    });
    audio.play().catch(function () {});
  }

  // hls.js needs Media Source Extensions that play MP3; native HLS needs nothing more.
  function mse() {
    return !!(window.MediaSource && MediaSource.isTypeSupported("audio/mpeg"));
  }
  function playable(b) {
    var audio = document.getElementById("live");
    return (b.getAttribute("data-hlsjs") && mse()) ||
      !!(audio && audio.canPlayType("application/vnd.apple.mpegurl"));
  }

  var btn = document.getElementById("from-start");
  if (btn) {
    btn.addEventListener("click", function () {
      var audio = document.getElementById("live");
      if (!audio || !onAirSince) return;
      var at = onAirSince;
      var url = btn.getAttribute("data-hls") + "?s=" + session;
      var hlsJs = btn.getAttribute("data-hlsjs");
      audio.pause();
      if (window.antenneHls) { window.antenneHls.destroy(); window.antenneHls = null; }
      if (hlsJs && mse()) {
        if (window.Hls) return withHlsJs(audio, url, at, btn);
        var s = document.createElement("script");
        s.src = hlsJs;
        s.onload = function () { withHlsJs(audio, url, at, btn); };
        document.head.appendChild(s);
      } else if (audio.canPlayType("application/vnd.apple.mpegurl")) {
        native(audio, url, at, btn);
      }
    });
  }

  refresh();
  setInterval(refresh, 20000);
})();
