/* The address picker without a round trip: when the province changes, its communes and wards are fetched
   from /places/<code>/communes.json and put in the commune list. Without JavaScript the "Show communes"
   button sends the form back and the page lists them (templates/shop/_address_picker.html). */
(function () {
  "use strict";
  if (!window.fetch) { return; }
  var pickers = document.querySelectorAll(".address-picker");
  Array.prototype.forEach.call(pickers, function (picker) {
    var province = picker.querySelector("[data-province]");
    var commune = picker.querySelector("[data-commune]");
    var button = picker.querySelector("[data-places-button]");
    var url = picker.getAttribute("data-places-url");
    if (!province || !commune || !url) { return; }
    if (button) { button.hidden = true; }
    province.addEventListener("change", function () {
      var first = commune.options[0];
      commune.length = 0;
      commune.appendChild(first);
      if (!province.value) { return; }
      fetch(url.replace("{code}", encodeURIComponent(province.value)),
            {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : {communes: []}; })
        .then(function (data) {
          data.communes.forEach(function (item) {
            var option = document.createElement("option");
            option.value = String(item.code);
            option.textContent = item.name;
            commune.appendChild(option);
          });
          commune.dispatchEvent(new Event("change", {bubbles: true}));
        })
        .catch(function () { if (button) { button.hidden = false; } });
    });
  });
})();
