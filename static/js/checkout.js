/* The checkout summary follows the buyer's choices: on every change the form is posted to /checkout/quote,
   which answers each farm's delivery fee, days and total, the grand total and the button's words (the same
   sums the server charges, shop/checkout_summary.py). The hidden fields of what was shown are set with them,
   so what is submitted is what is on screen. Without JavaScript, "Update total" does this by hand, and an
   order whose total is not the one shown is shown again to confirm instead of being placed. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-quote-url]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var url = form.getAttribute("data-quote-url");
  var asked = 0;
  var timer = null;
  function text(selector, value) {
    Array.prototype.forEach.call(form.querySelectorAll(selector), function (node) { node.textContent = value; });
  }
  function show(answer) {
    Object.keys(answer.farms).forEach(function (id) {
      var farm = answer.farms[id];
      text('[data-farm-total="' + id + '"]', farm.total_text);
      text('[data-farm-fee="' + id + '"]', farm.fee_text);
      text('[data-farm-days="' + id + '"]', farm.days_text);
      text('[data-farm-error="' + id + '"]', farm.error);
    });
    text("[data-grand-total]", answer.total_text);
    text("[data-place-button]", answer.button);
    Object.keys(answer.shown).forEach(function (name) {
      var input = form.querySelector('input[type="hidden"][name="' + name + '"]');
      if (input) { input.value = answer.shown[name]; }
    });
  }
  /* The button is never disabled while a total is asked for: leaving the street field for the button fires
     "change" in the middle of the tap, and a button disabled then swallows the tap. If the order is sent
     before the new total is on screen, the server finds the shown total stale and shows the confirm step. */
  function ask() {
    var mine = ++asked;
    form.setAttribute("aria-busy", "true");
    fetch(url, {method: "POST", body: new FormData(form), credentials: "same-origin",
                headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (mine !== asked) { return; }
        if (answer) { show(answer); }
        form.removeAttribute("aria-busy");
      })
      .catch(function () { form.removeAttribute("aria-busy"); });
  }
  function later() { window.clearTimeout(timer); timer = window.setTimeout(ask, 300); }
  form.addEventListener("change", ask);
  form.addEventListener("input", function (event) {
    if (event.target && event.target.name === "street") { later(); }
  });
  var manual = form.querySelector("[data-recalculate]");
  if (manual) { manual.hidden = true; }
})();
