/* The share kit: the phone's own share sheet and copying the caption. Without JavaScript the page still has
   the links, the posters and the caption to select by hand; these buttons stay hidden. */
(function () {
  "use strict";
  var sheet = document.querySelector("[data-share-sheet]");
  if (sheet && navigator.share) {
    sheet.hidden = false;
    sheet.addEventListener("click", function () {
      var caption = document.querySelector("[data-caption]");
      navigator.share({
        title: sheet.getAttribute("data-title"),
        text: caption ? caption.value : "",
        url: sheet.getAttribute("data-url")
      }).catch(function () { /* closed without sharing */ });
    });
  }
  var copy = document.querySelector("[data-copy]");
  var status = document.querySelector("[data-copy-status]");
  if (copy) {
    var field = document.getElementById(copy.getAttribute("data-copy"));
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var done = function () { if (status) { status.textContent = copy.getAttribute("data-copied-text"); } };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      } else {
        field.select();
        try { if (document.execCommand("copy")) { done(); } } catch (e) { /* the text stays selected */ }
      }
    });
  }
}());
