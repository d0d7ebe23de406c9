// Upload with a progress bar, and live status of submissions without reloading the page.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("form[data-upload]"), function (form) {
    if (!window.XMLHttpRequest || !window.FormData) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var box = form.querySelector(".upload-progress");
      var bar = form.querySelector(".upload-bar");
      var pct = form.querySelector(".upload-pct");
      var error = form.querySelector(".submit-error");
      var button = form.querySelector("button[type=submit]");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", window.location.pathname);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        var value = Math.round((100 * e.loaded) / e.total);
        bar.value = value; bar.textContent = value + "%"; pct.textContent = value + "%";
      };
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {message: "Unexpected answer from the server (" + xhr.status + ")."}; }
        if (xhr.status === 201 && body.redirect) { window.location.assign(body.redirect); return; }
        error.textContent = body.message || "The upload failed."; error.hidden = false;
        button.disabled = false; box.hidden = true;
      };
      xhr.onerror = function () {
        error.textContent = "The upload was interrupted; check your connection and try again."; error.hidden = false;
        button.disabled = false; box.hidden = true;
      };
      error.hidden = true; box.hidden = false; button.disabled = true;
      xhr.send(new FormData(form));
    });
  });

  var FINAL = {scored: 1, failed: 1, cancelled: 1};
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-submission]"));
  function pending() {
    return rows.filter(function (row) {
      var s = row.querySelector("[data-status]");
      return s && !FINAL[s.getAttribute("data-status")];
    });
  }
  function poll() {
    var waiting = pending();
    if (!waiting.length) return;
    waiting.forEach(function (row) {
      fetch("/api/v1/submissions/" + row.getAttribute("data-submission"), {headers: {Accept: "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (sub) {
          if (!sub) return;
          var s = row.querySelector("[data-status]");
          if (s.getAttribute("data-status") === sub.status) return;
          if (row.getAttribute("data-live") === "1" && FINAL[sub.status]) { window.location.reload(); return; }
          s.setAttribute("data-status", sub.status);
          s.className = "status status-" + sub.status;
          s.textContent = sub.status.charAt(0).toUpperCase() + sub.status.slice(1);
          var cell = row.querySelector(".score");
          if (cell && sub.scores && sub.scores["public"]) { cell.textContent = sub.scores["public"].score.toFixed(4); }
        })
        .catch(function () {});
    });
    window.setTimeout(poll, 1500);
  }
  if (pending().length) window.setTimeout(poll, 1000);
})();
