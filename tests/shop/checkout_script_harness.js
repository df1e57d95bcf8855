/* Runs static/js/checkout.js in node against a small stand-in of the checkout page: the selectors the script
   uses, a fetch that records the request and answers with the JSON given (the real /checkout/quote answer,
   from tests/shop/test_checkout_script.py), and prints what the page then shows. */
"use strict";
const fs = require("fs");
const [scriptPath, answerJson, farmId] = process.argv.slice(2);
const answer = JSON.parse(answerJson);
function node(text) { return {textContent: text, value: text, disabled: false, hidden: false}; }
const nodes = {
  [`[data-farm-total="${farmId}"]`]: [node("old"), node("old")],
  [`[data-farm-fee="${farmId}"]`]: [node("")],
  [`[data-farm-days="${farmId}"]`]: [node("")],
  [`[data-farm-error="${farmId}"]`]: [node("")],
  "[data-grand-total]": [node("130.000 ₫")],
  "[data-place-button]": [node("Đặt hàng và thanh toán 130.000 ₫")],
};
const hidden = {[`input[type="hidden"][name="fee_${farmId}"]`]: node("0"),
                'input[type="hidden"][name="shown_total"]': node("130000")};
const recalculate = node("");
const handlers = {};
const attributes = {};
const form = {
  getAttribute: (name) => (name === "data-quote-url" ? "/checkout/quote" : attributes[name] || null),
  setAttribute: (name, value) => { attributes[name] = value; },
  removeAttribute: (name) => { delete attributes[name]; },
  querySelectorAll: (selector) => nodes[selector] || [],
  querySelector: (selector) => (selector === "[data-place-button]" ? nodes[selector][0]
    : selector === "[data-recalculate]" ? recalculate : hidden[selector] || null),
  addEventListener: (kind, handler) => { handlers[kind] = handler; },
};
const requests = [];
global.document = {querySelector: (selector) => (selector === "form[data-quote-url]" ? form : null)};
global.FormData = function (f) { this.form = f; };
global.window = {
  FormData: global.FormData,
  fetch: (url, options) => {
    requests.push({url, method: options.method, hasBody: options.body instanceof global.FormData});
    return Promise.resolve({ok: true, json: () => Promise.resolve(answer)});
  },
  setTimeout: setTimeout, clearTimeout: clearTimeout,
};
global.fetch = global.window.fetch;
eval(fs.readFileSync(scriptPath, "utf8"));
handlers.change({target: {name: `fulfilment_${farmId}`}});
const whileAsking = attributes["aria-busy"] === "true";
const disabledWhileAsking = nodes["[data-place-button]"][0].disabled;
setTimeout(() => {
  console.log(JSON.stringify({
    requests, whileAsking, disabledWhileAsking, busyAfter: "aria-busy" in attributes,
    recalculateHidden: recalculate.hidden, button: nodes["[data-place-button]"][0].textContent,
    grand: nodes["[data-grand-total]"][0].textContent,
    farmTotals: nodes[`[data-farm-total="${farmId}"]`].map((n) => n.textContent),
    days: nodes[`[data-farm-days="${farmId}"]`][0].textContent,
    fee: hidden[`input[type="hidden"][name="fee_${farmId}"]`].value,
  }));
}, 50);
