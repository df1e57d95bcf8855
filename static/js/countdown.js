/* The pay page's countdown to the order's expiry. The page shows the expiry time without it. */
(function () {
  "use strict";
  var clock = document.querySelector("[data-countdown]");
  var left = document.querySelector("[data-countdown-left]");
  if (!clock || !left) { return; }
  var ends = Date.parse(clock.getAttribute("datetime"));
  if (isNaN(ends)) { return; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var seconds = Math.floor((ends - Date.now()) / 1000);
    if (seconds <= 0) {
      left.textContent = left.getAttribute("data-expired-text");
      return;
    }
    var text = pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
    left.textContent = left.getAttribute("data-left-text").replace("{time}", text);
    window.setTimeout(tick, 1000);
  }
  tick();
})();
