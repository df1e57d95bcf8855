/* Card payment with Stripe.js's Card Element. Everything it needs is in data- attributes of
   #card-form: the publishable key, the PaymentIntent's client secret and the return page. */
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form) { return; }
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("card-submit");
  if (typeof window.Stripe !== "function") {
    errors.textContent = form.getAttribute("data-load-error");
    return;
  }
  var stripe = window.Stripe(form.getAttribute("data-stripe-key"));
  var card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount("#card-element");
  button.disabled = false;
  card.on("change", function (event) {
    errors.textContent = event && event.error ? event.error.message : "";
  });
  var label = button.textContent;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    button.textContent = form.getAttribute("data-busy-text");
    errors.textContent = "";
    stripe.confirmCardPayment(form.getAttribute("data-client-secret"), { payment_method: { card: card } })
      .then(function (result) {
        if (result.error) {
          errors.textContent = result.error.message || form.getAttribute("data-error-text");
          button.disabled = false;
          button.textContent = label;
          return;
        }
        window.location.assign(form.getAttribute("data-return-url"));
      }, function () {
        errors.textContent = form.getAttribute("data-error-text");
        button.disabled = false;
        button.textContent = label;
      });
  });
})();
