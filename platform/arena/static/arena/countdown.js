// Counts down to the deadline the server wrote in each [data-countdown] element (an ISO time). Without
// this script the element keeps the server's "in 3 days, 4 hours" of when the page was served.
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-countdown]"));
  if (!items.length) { return; }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function words(ms) {
    if (ms <= 0) { return "now passed; reload the page for the next one"; }
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
    var m = Math.floor(s % 3600 / 60);
    if (d > 0) { return "in " + plural(d, "day") + ", " + plural(h, "hour"); }
    if (h > 0) { return "in " + plural(h, "hour") + ", " + plural(m, "minute"); }
    return "in " + plural(m, "minute") + ", " + plural(s % 60, "second");
  }
  function tick() {
    var now = Date.now();
    items.forEach(function (el) { el.textContent = words(Date.parse(el.getAttribute("data-countdown")) - now); });
  }
  tick();
  setInterval(tick, 1000);
})();
