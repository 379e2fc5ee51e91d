// The console's little JavaScript (the forms work without it): the editor's line numbers
// follow the text as it scrolls and changes, an error's "line N" selects that line, and
// copy buttons copy the token and the volunteer's instructions.
(function () {
  "use strict";
  var area = document.querySelector(".editor textarea");
  var gutter = document.querySelector(".editor .gutter");
  if (area && gutter) {
    var bad = {};
    gutter.querySelectorAll(".bad").forEach(function (s) { bad[s.textContent] = true; });
    var count = -1;
    var renumber = function () {
      var n = area.value.split("\n").length;
      if (n === count) return;
      count = n;
      var out = [];
      for (var i = 1; i <= n; i++) {
        out.push('<span' + (bad[i] ? ' class="bad" id="line-' + i + '"' : '') + '>' + i + '</span>');
      }
      gutter.innerHTML = out.join("\n");
    };
    area.addEventListener("input", renumber);
    area.addEventListener("scroll", function () { gutter.scrollTop = area.scrollTop; });
    renumber();
    document.querySelectorAll(".diag-item").forEach(function (item) {
      var link = item.querySelector("a.at");
      if (!link) return;
      link.addEventListener("click", function (ev) {
        ev.preventDefault();
        var line = parseInt(item.getAttribute("data-line"), 10);
        var lines = area.value.split("\n");
        var start = 0;
        for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
        var end = start + (lines[line - 1] || "").length;
        area.focus();
        area.setSelectionRange(start, end);
        var lh = parseFloat(getComputedStyle(area).lineHeight) || 18;
        area.scrollTop = Math.max(0, (line - 5) * lh);
      });
    });
  }
  document.querySelectorAll("button.copy").forEach(function (b) {
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (!el) return;
      var text = el.value !== undefined ? el.value : el.textContent;
      var done = function () { b.textContent = b.getAttribute("data-done"); };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text).then(done, function () {});
      } else if (el.select) {
        el.select();
        document.execCommand("copy");
        done();
      }
    });
  });
})();
