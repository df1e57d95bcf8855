/* Photo forms (form[data-shrink-photos]): shrink each photo in the phone before it is sent (longest side
   1600 px, JPEG at 0.8: a 4 MB camera photo becomes about 300 KB) and send the form with a progress bar.
   The server still checks and re-encodes every photo (core/images.py). Without this script, or in a browser
   that cannot do it, the form is posted as it is. A photo the browser cannot draw (HEIC on most phones) or
   that would not get smaller is sent unchanged. */
(function () {
  "use strict";
  var LONG_SIDE = 1600, QUALITY = 0.8;
  if (!window.FormData || !window.XMLHttpRequest || !window.HTMLCanvasElement || !window.DOMParser) { return; }
  var canvas = document.createElement("canvas");
  if (!canvas.toBlob) { return; }

  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" });
    }
    return new Promise(function (resolve, reject) {
      var img = new Image(), url = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("decode")); };
      img.src = url;
    });
  }

  function shrink(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type)) { return Promise.resolve(file); }
    return decode(file).then(function (img) {
      var w = img.width, h = img.height, scale = Math.min(1, LONG_SIDE / Math.max(w, h));
      canvas.width = Math.max(1, Math.round(w * scale));
      canvas.height = Math.max(1, Math.round(h * scale));
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff";  // a transparent PNG gets a white background, as the server's JPEG would
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      if (img.close) { img.close(); }
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg" }));
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }

  function status(form) {
    var box = form.querySelector(".upload-progress");
    if (!box) {
      box = document.createElement("p");
      box.className = "upload-progress";
      box.setAttribute("role", "status");
      box.innerHTML = '<progress max="100" value="0"></progress> <span></span>';
      var button = form.querySelector("button[type=submit]");
      form.insertBefore(box, button ? button.nextSibling : null);
    }
    return { bar: box.querySelector("progress"), text: box.querySelector("span") };
  }

  function show(page, url) {
    var doc = new DOMParser().parseFromString(page, "text/html");
    // The body and title only: the head (stylesheet, icon) is the same on every page and stays loaded.
    document.title = doc.title;
    document.documentElement.lang = doc.documentElement.lang;
    document.body.replaceWith(document.adoptNode(doc.body));
    // The address becomes the page's own (a new history entry when the server redirected elsewhere).
    if (url) { history[url !== location.href.split("#")[0] ? "pushState" : "replaceState"](null, "", url); }
    var flash = document.querySelector(".flashes");
    if (flash) { flash.scrollIntoView(); }
    setup();
  }

  function send(form) {
    var inputs = form.querySelectorAll("input[type=file]");
    var ui = status(form), button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    ui.bar.removeAttribute("value");
    ui.text.textContent = form.getAttribute("data-shrinking-text");
    var data = new FormData(form), work = [];
    Array.prototype.forEach.call(inputs, function (input) {
      if (!input.name) { return; }
      data.delete(input.name);
      Array.prototype.forEach.call(input.files, function (file) {
        work.push(shrink(file).then(function (small) { return [input.name, small]; }));
      });
    });
    Promise.all(work).then(function (files) {
      files.forEach(function (pair) { data.append(pair[0], pair[1], pair[1].name); });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.onprogress = function (event) {
        if (!event.lengthComputable) { return; }
        var percent = Math.round(event.loaded * 100 / event.total);
        ui.bar.value = percent;
        ui.text.textContent = form.getAttribute("data-uploading-text").replace("{percent}", percent + "%");
      };
      xhr.onload = function () { show(xhr.responseText, xhr.responseURL); };
      xhr.onerror = function () {
        ui.text.textContent = form.getAttribute("data-failed-text");
        if (button) { button.disabled = false; }
      };
      xhr.send(data);
    });
  }

  function setup() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-shrink-photos]"), function (form) {
      form.addEventListener("submit", function (event) {
        if (!form.checkValidity || form.checkValidity()) {
          event.preventDefault();
          send(form);
        }
      });
    });
  }
  setup();
})();
