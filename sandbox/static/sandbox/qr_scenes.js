// The simulator's QR code list: filter by scene, and count temporary codes down until they expire.
(function () {
  "use strict";
  const list = document.getElementById("qr-scenes");
  if (!list) return;
  const filter = document.getElementById("qr-filter");
  const items = Array.from(list.querySelectorAll(".qr-scene"));
  if (filter) {
    filter.addEventListener("input", function () {
      const needle = filter.value.trim().toLowerCase();
      items.forEach(function (item) {
        item.hidden = needle !== "" && !item.dataset.scene.toLowerCase().includes(needle);
      });
    });
  }
  const started = Date.now();
  function format(seconds) {
    const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60);
    return d > 0 ? d + "d " + h + "h" : h > 0 ? h + "h " + m + "m" : m + "m " + (seconds % 60) + "s";
  }
  function tick() {
    const elapsed = Math.floor((Date.now() - started) / 1000);
    items.forEach(function (item) {
      if (item.dataset.secondsLeft === undefined) return;
      const left = Number(item.dataset.secondsLeft) - elapsed;
      const label = item.querySelector(".qr-left");
      if (left <= 0) {
        item.classList.add("expired");
        item.querySelector("button").disabled = true;
        if (label) label.textContent = "✕";
      } else if (label) {
        label.textContent = format(left);
      }
    });
  }
  tick();
  setInterval(tick, 1000);
})();
