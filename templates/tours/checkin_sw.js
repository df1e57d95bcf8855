/* The service worker of check-in without signal (farmers/checkin_offline_views.py). It keeps the check-in
   page, its files and the day's list, and serves them when the network fails or takes too long: the page
   itself and QR codes scanned with the phone's camera (/checkin/<token>, checked on the page by their
   signature). Any other request is left to the browser. */
"use strict";
var CACHE = "kep-checkin-{{ version }}";
var PAGE = {{ page|tojson }};
var FILES = {{ files|tojson }};
var LIST = "/farmer/checkin/today.json";
var WAIT_MS = 5000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(FILES); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("kep-checkin-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

/* The page asks to be kept, with the day's list (its first load happens before this worker controls it). */
self.addEventListener("message", function (event) {
  if (event.data && Array.isArray(event.data.keep)) {
    event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(event.data.keep); }));
  }
});

function network(request, keep) {
  var timer;
  var late = new Promise(function (resolve, reject) {
    timer = setTimeout(function () { reject(new Error("no answer in time")); }, WAIT_MS);
  });
  return Promise.race([fetch(request), late]).then(function (response) {
    clearTimeout(timer);
    if (keep && response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { return cache.put(request, copy); });
    }
    return response;
  }, function (error) { clearTimeout(timer); throw error; });
}

function kept(url) {
  return caches.open(CACHE).then(function (cache) { return cache.match(url, {ignoreSearch: true}); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (FILES.indexOf(url.pathname) !== -1) {
    event.respondWith(kept(url.pathname).then(function (hit) { return hit || fetch(request); }));
  } else if (url.pathname === LIST) {
    event.respondWith(network(request, true).catch(function (error) {
      return kept(LIST).then(function (hit) { if (hit) { return hit; } throw error; });
    }));
  } else if (request.mode === "navigate" && (url.pathname === PAGE || url.pathname.indexOf("/checkin/") === 0)) {
    event.respondWith(network(request, url.pathname === PAGE).catch(function (error) {
      return kept(PAGE).then(function (hit) { if (hit) { return hit; } throw error; });
    }));
  }
});
