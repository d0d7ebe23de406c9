// The leaderboard's team search, as you type: hides the rows of this page whose team name does not match
// (baselines stay, as reference lines). Without this script the same form searches the whole board on the
// server (?q=); pressing Enter still does that.
(function () {
  "use strict";
  var form = document.querySelector("form[data-board-search]");
  if (!form) { return; }
  var table = document.getElementById(form.getAttribute("data-board-search"));
  var input = form.querySelector("input[type=search]");
  var status = document.getElementById("board-q-status");
  if (!table || !input) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows).filter(function (row) {
    return row.querySelector("td.team") && !row.hasAttribute("data-baseline");
  });
  function filter() {
    var q = input.value.trim().toLowerCase(), shown = 0;
    rows.forEach(function (row) {
      var match = !q || row.querySelector("td.team").textContent.toLowerCase().indexOf(q) !== -1;
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    if (status) {
      status.textContent = q ? shown + " of " + rows.length + " teams on this page match; press Enter to search every page." : "";
    }
  }
  input.addEventListener("input", filter);
})();
