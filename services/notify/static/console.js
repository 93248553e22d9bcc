// Waspada console: live list updates by polling (no framework, no external asset).
"use strict";
(function () {
  var list = document.getElementById("rows");
  if (!list) { return; }
  var url = list.getAttribute("data-poll");
  var status = document.getElementById("live-status");
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 401) { window.location.assign("/console/login"); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) { return; }
        if (list.innerHTML !== html) { list.innerHTML = html; }
        if (status) { status.classList.remove("stale"); }
      })
      .catch(function () { if (status) { status.classList.add("stale"); } });
  }
  window.setInterval(refresh, 3000);
})();
