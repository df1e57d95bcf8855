/* The pay page turns to "paid" by itself: it asks the order's status every few seconds and reloads the page
   when a payment (or a part of one) has landed or the order has changed. Without JavaScript the page's
   "check again" button does the same by hand. */
(function () {
  "use strict";
  var watch = document.querySelector("[data-pay-status]");
  if (!watch || !window.fetch) { return; }
  var url = watch.getAttribute("data-pay-status");
  var state = watch.getAttribute("data-state");
  var received = watch.getAttribute("data-received");
  var every = 5000;
  var tries = 0;
  function ask() {
    tries += 1;
    if (tries > 360) { return; }  /* half an hour of asking is enough: the button still works */
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin", cache: "no-store"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (now) {
        if (now && (now.state !== state || String(now.received_vnd) !== received)) {
          window.location.reload();
          return;
        }
        window.setTimeout(ask, every);
      })
      .catch(function () { window.setTimeout(ask, every * 2); });
  }
  window.setTimeout(ask, every);
})();
