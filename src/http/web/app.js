// Refreshes "now" and "next" from /api/now every 20 s. The server-rendered text stays when
// the API is unreachable. Values are written with textContent only (never as HTML).
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
        var l = document.getElementById("listeners");
        if (l && typeof d.listeners === "number") {
          l.textContent = (lang === "en" ? "Listeners: " : "Auditeurs : ") + d.listeners;
          l.hidden = false;
        }
      })
      .catch(function () {});
  }
  refresh();
  setInterval(refresh, 20000);
})();
