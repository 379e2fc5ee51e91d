// The volunteers' upload: tus 1.0 resumable upload in 8 MiB pieces (a cut connection or a
// reloaded page resumes where it stopped), then status polling until the episode is ready,
// then the loudness report. The token stays in this browser's localStorage.
(function () {
  "use strict";
  var form = document.getElementById("upload");
  if (!form) return;
  var S = JSON.parse(document.getElementById("strings").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var CHUNK = 8 * 1024 * 1024;
  var TOKEN_KEY = "antenne.token";
  var token = $("token"), remember = $("remember"), bar = $("bar"), percent = $("percent");
  var status = $("status"), report = $("report"), send = $("send");
  try { token.value = localStorage.getItem(TOKEN_KEY) || ""; } catch (e) {}

  function say(text, isError) {
    status.textContent = "";
    var p = document.createElement("p");
    if (isError) p.className = "err";
    p.textContent = text;
    status.appendChild(p);
  }
  function setProgress(done, total) {
    var pc = total ? Math.floor((done / total) * 100) : 0;
    bar.value = pc;
    percent.textContent = pc + " %";
  }
  function b64(str) {
    var bytes = new TextEncoder().encode(str), bin = "";
    for (var i = 0; i < bytes.length; i += 0x8000) {
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(bin);
  }
  function errorText(xhr) {
    var msg = S.error + " " + xhr.status;
    try {
      var d = JSON.parse(xhr.responseText);
      if (d.fields) {
        msg = Object.keys(d.fields).map(function (k) { return k + " : " + d.fields[k]; }).join(" — ");
      } else if (d.error) msg = d.error;
    } catch (e) {}
    if (xhr.status === 401) msg = S.bad_token;
    if (xhr.status === 403) msg = S.forbidden;
    if (xhr.status === 413) msg = S.too_large;
    return msg;
  }
  function request(method, url, headers, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Authorization", "Bearer " + token.value.trim());
      Object.keys(headers).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
      if (onProgress) xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = function () { reject(new Error("network")); };
      xhr.send(body === undefined ? null : body);
    });
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function readText(input) {
    var f = input.files && input.files[0];
    return f ? f.text() : Promise.resolve("");
  }

  async function upload(file, fields) {
    var key = "antenne.upload." + [file.name, file.size, file.lastModified, fields.show].join("|");
    var url = null;
    try { url = localStorage.getItem(key); } catch (e) {}
    var tus = { "Tus-Resumable": "1.0.0" };
    var offset = 0;
    if (url) {
      var h = await request("HEAD", url, tus).catch(function () { return null; });
      if (h && h.status === 200) offset = parseInt(h.getResponseHeader("Upload-Offset"), 10) || 0;
      else url = null;
    }
    if (!url) {
      var meta = Object.keys(fields).filter(function (k) { return fields[k]; })
        .map(function (k) { return k + " " + b64(fields[k]); }).join(",");
      var c = await request("POST", "/api/uploads",
        Object.assign({ "Upload-Length": String(file.size), "Upload-Metadata": meta }, tus));
      if (c.status !== 201) throw new Error(errorText(c));
      url = c.getResponseHeader("Location");
      try { localStorage.setItem(key, url); } catch (e) {}
    }
    var delay = 1000;
    for (;;) {
      if (offset >= file.size) break;
      var piece = file.slice(offset, Math.min(offset + CHUNK, file.size));
      var start = offset;
      say(S.uploading);
      var r = await request("PATCH", url,
        Object.assign({ "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" }, tus),
        piece, function (loaded) { setProgress(start + loaded, file.size); }).catch(function () { return null; });
      if (r && r.status === 204) {
        offset = parseInt(r.getResponseHeader("Upload-Offset"), 10);
        setProgress(offset, file.size);
        delay = 1000;
        var id = r.getResponseHeader("Antenne-Episode");
        if (id) { try { localStorage.removeItem(key); } catch (e) {} return id; }
        continue;
      }
      if (r && r.status >= 400 && r.status < 500 && r.status !== 409 && r.status !== 423) {
        try { localStorage.removeItem(key); } catch (e) {}
        throw new Error(errorText(r));
      }
      // Cut connection, conflict or server error: ask where the server got, then go on.
      say(S.retrying);
      await sleep(delay);
      delay = Math.min(delay * 2, 30000);
      var hd = await request("HEAD", url, tus).catch(function () { return null; });
      if (hd && hd.status === 200) {
        offset = parseInt(hd.getResponseHeader("Upload-Offset"), 10) || 0;
        var done = hd.getResponseHeader("Antenne-Episode");
        if (done) return done;
      }
    }
    var last = await request("HEAD", url, tus);
    return last.getResponseHeader("Antenne-Episode");
  }

  function fmt(x, unit) { return (x === null || x === undefined) ? "–" : x.toFixed(1) + " " + unit; }
  function showReport(ep) {
    report.textContent = "";
    if (!ep.loudness) return;
    var h = document.createElement("h2");
    h.textContent = S.report;
    report.appendChild(h);
    var t = document.createElement("table");
    t.className = "report";
    var rows = [["", S.before, S.after],
      [S.integrated, fmt(ep.loudness.before.integrated_lufs, "LUFS"), fmt(ep.loudness.after.integrated_lufs, "LUFS")],
      [S.range, fmt(ep.loudness.before.loudness_range_lu, "LU"), fmt(ep.loudness.after.loudness_range_lu, "LU")],
      [S.peak, fmt(ep.loudness.before.true_peak_dbtp, "dBTP"), fmt(ep.loudness.after.true_peak_dbtp, "dBTP")],
      [S.gain, fmt(ep.loudness.gain_db, "dB"), ""]];
    rows.forEach(function (row, i) {
      var tr = document.createElement("tr");
      row.forEach(function (cell, j) {
        var c = document.createElement(i === 0 || j === 0 ? "th" : "td");
        if (i === 0 && j > 0) c.scope = "col";
        if (j === 0 && i > 0) c.scope = "row";
        c.textContent = cell;
        tr.appendChild(c);
      });
      t.appendChild(tr);
    });
    report.appendChild(t);
    if (ep.audio_url) {
      var a = document.createElement("audio");
      a.controls = true;
      a.preload = "none";
      a.src = ep.audio_url;
      a.setAttribute("aria-label", S.listen + " : " + ep.title);
      report.appendChild(a);
    }
  }
  async function poll(id) {
    for (;;) {
      var r = await fetch("/api/episodes/" + encodeURIComponent(id)).catch(function () { return null; });
      if (r && r.ok) {
        var ep = await r.json();
        form.setAttribute("data-status", ep.status);
        form.setAttribute("data-episode", ep.id);
        if (ep.status === "ready") { say(S.ready); showReport(ep); return; }
        if (ep.status === "failed") { say(S.failed + " " + (ep.error || ""), true); return; }
        var extra = ep.status === "processing" && typeof ep.progress === "number" ? " " + Math.round(ep.progress * 100) + " %" : "";
        say(S[ep.status] + extra);
      }
      await sleep(2000);
    }
  }

  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    if (!token.value.trim()) { say(S.token_missing, true); token.focus(); return; }
    try {
      if (remember.checked) localStorage.setItem(TOKEN_KEY, token.value.trim());
      else localStorage.removeItem(TOKEN_KEY);
    } catch (e) {}
    var file = $("file").files[0];
    if (!file) { $("file").focus(); return; }
    send.disabled = true;
    report.textContent = "";
    form.removeAttribute("data-status");
    try {
      var fields = {
        show: $("show").value, title: $("title").value, description: $("description").value,
        date: $("date").value, season: $("season").value, episode: $("episode").value,
        filename: file.name,
        transcript: await readText($("transcript")), chapters: await readText($("chapters")),
      };
      var id = await upload(file, fields);
      setProgress(1, 1);
      await poll(id);
    } catch (e) {
      form.setAttribute("data-status", "error");
      say(e.message, true);
    } finally {
      send.disabled = false;
    }
  });
})();
