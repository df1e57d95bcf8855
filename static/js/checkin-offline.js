/* Check-in without signal (templates/tours/checkin_offline.html; the server side is tours/offline_checkin.py).
   The page asks for today's list and the market's public key; without signal the service worker answers with
   the copy it kept. The page checks a QR address by its ECDSA signature (WebCrypto) and a typed code against
   the list, and queues each check-in in this phone's storage with a random id and the time. When the signal is back it sends the queue and shows the
   server's answer for each: sent, already checked in (and when), or refused. Texts come from data- attributes
   in the farmer's language. */
(function () {
  "use strict";
  var root = document.getElementById("offline-checkin");
  if (!root || !window.crypto || !window.crypto.subtle || !window.localStorage || !window.fetch) { return; }
  var ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679";
  var farm = root.getAttribute("data-farm");
  var queueKey = "kep-checkin:" + farm + ":queue";
  var csrf = root.getAttribute("data-csrf");
  var syncing = false;
  var day = null;  /* today's list, as the server (or, offline, the service worker's copy) gave it */
  var notSent = false;  /* the last try to send failed: the session ended, or the signal dropped meanwhile */
  var pending = null;  /* the booking shown, waiting for the farmer's "Check in" */
  var clock = new Intl.DateTimeFormat("en-GB", {hour: "2-digit", minute: "2-digit", hour12: false,
                                                timeZone: "Asia/Ho_Chi_Minh"});
  var dayFormat = new Intl.DateTimeFormat("en-CA", {year: "numeric", month: "2-digit", day: "2-digit",
                                                    timeZone: "Asia/Ho_Chi_Minh"});

  function $(selector) { return root.querySelector(selector); }
  function say(name, values) {
    var text = root.getAttribute("data-msg-" + name) || "";
    Object.keys(values || {}).forEach(function (key) { text = text.split("{" + key + "}").join(values[key]); });
    return text;
  }
  function read(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function write(key, value) { localStorage.setItem(key, JSON.stringify(value)); }
  function today() { return dayFormat.format(new Date()).split("-").join(""); }
  function queue() { return read(queueKey, []); }

  function bytes(base64url) {
    var text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i += 1) { out[i] = text.charCodeAt(i); }
    return out;
  }
  function normalize(raw) {
    var code = String(raw || "").replace(/[\s\-.]/g, "").toUpperCase();
    if (code.length !== 8) { return ""; }
    for (var i = 0; i < code.length; i += 1) { if (ALPHABET.indexOf(code[i]) === -1) { return ""; } }
    return code;
  }
  /* {code, farm, day} of a token the market signed, or null. */
  function verify(token, key) {
    var parts = token.split(".");
    if (parts.length !== 4 || !key) { return Promise.resolve(null); }
    var signature;
    try { signature = bytes(parts[3]); } catch (e) { return Promise.resolve(null); }
    if (signature.length !== 64) { return Promise.resolve(null); }
    var jwk = {kty: "EC", crv: "P-256", x: key.x, y: key.y, ext: true};
    return crypto.subtle.importKey("jwk", jwk, {name: "ECDSA", namedCurve: "P-256"}, false, ["verify"])
      .then(function (publicKey) {
        return crypto.subtle.verify({name: "ECDSA", hash: "SHA-256"}, publicKey, signature,
                                    new TextEncoder().encode(parts.slice(0, 3).join(".")));
      })
      .then(function (good) { return good ? {code: parts[0], farm: parts[1], day: parts[2]} : null; },
            function () { return null; });
  }

  function show(title, facts, message, kind, action) {
    $("[data-result]").hidden = false;
    $("[data-result-title]").textContent = title;
    $("[data-result-facts]").textContent = facts;
    var note = $("[data-result-message]");
    note.textContent = message;
    note.hidden = !message;
    note.className = "notice" + (kind ? " notice-" + kind : "");
    note.setAttribute("role", kind === "error" ? "alert" : "status");
    $("[data-checkin]").hidden = !action;
    pending = action || null;
  }
  function queued(code) {
    return queue().filter(function (item) { return item.code === code && item.result !== "refused"; })[0];
  }
  function offer(entry, token, late) {
    var facts = entry ? entry.party + " · " + entry.phone : "";
    var title = entry ? entry.name : late.code;
    var mine = queued(entry ? entry.code : late.code);
    if (entry && entry.state === "cancelled") { return show(title, facts, say("cancelled"), "error"); }
    if (entry && entry.state === "unpaid") { return show(title, facts, say("unpaid"), "error"); }
    if (entry && entry.checked_in_at) { return show(title, facts, say("already", {time: entry.checked_in_at}), "info"); }
    if (mine) { return show(title, facts, say("already", {time: clock.format(new Date(mine.at))}), "info"); }
    var code = entry ? entry.code : late.code;
    show(title, facts, late ? say("late") : "", late ? "info" : "", {code: code, token: token || null,
                                                                    name: entry ? entry.name : code});
  }
  function check(raw) {
    var text = String(raw || "").trim();
    var at = text.indexOf("/checkin/");
    var token = at !== -1 ? text.slice(at + 9).split(/[?#]/)[0] : (text.split(".").length === 4 ? text : null);
    try { token = token && decodeURIComponent(token); } catch (e) { return show("", "", say("forged"), "error"); }
    if (token && token.split(".").length === 2) {  /* a QR sent before the signature: <code>.<HMAC>, by its code */
      text = token.split(".")[0];
      token = null;
    }
    if (!token) {
      var code = normalize(text);
      if (!code) { return show("", "", say("unreadable"), "error"); }
      var entry = day && day.tickets.filter(function (item) { return item.code === code; })[0];
      return entry ? offer(entry) : show(code, "", say("unknown"), "error");
    }
    if (!day) { return show("", "", say("no-list"), "error"); }
    verify(token, day.key).then(function (signed) {
      if (!signed) { return show("", "", say("forged"), "error"); }
      if (signed.farm !== farm) { return show(signed.code, "", say("other-farm"), "error"); }
      var entry = day.tickets.filter(function (item) { return item.code === signed.code; })[0];
      if (entry) { return offer(entry, token); }
      if (signed.day !== today()) {
        var shown = signed.day.slice(6, 8) + "/" + signed.day.slice(4, 6) + "/" + signed.day.slice(0, 4);
        return show(signed.code, "", say("other-day", {day: shown}), "error");
      }
      offer(null, token, signed);
    });
  }

  function checkIn() {
    if (!pending) { return; }
    var items = queue();
    var id = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + "-" + Math.random().toString(36).slice(2);
    items.push({id: id, code: pending.code, token: pending.token, at: Date.now(), name: pending.name});
    write(queueKey, items);
    show(pending.name, "", say("done", {name: pending.name}), "success");
    render();
    send();
  }

  function render() {
    var state = $("[data-list-state]");
    if (!day) { state.textContent = say("no-list"); } else if (day.day !== today()) { state.textContent = say("old-list"); }
    else { state.textContent = say("list", {num: day.tickets.length, time: day.generated_at}); }
    $("[data-status]").textContent = navigator.onLine ? say("online") : say("offline");
    var items = queue();
    var waiting = items.filter(function (item) { return !item.result; }).length;
    $("[data-queue-state]").textContent = waiting ? say("queue", {num: waiting}) + (notSent && navigator.onLine ? " " + say("not-sent") : "")
      : (items.length ? say("sent") : "");
    var out = $("[data-today]");
    out.textContent = "";
    items.slice().reverse().forEach(function (item) {
      var row = document.createElement("li");
      var label = !item.result ? say("waiting") : item.result === "ok" ? say("ok", {time: item.answer_at})
        : item.result === "already" ? say("already", {time: item.answer_at}) : say("refused") + ": " + say(item.reason);
      row.textContent = clock.format(new Date(item.at)) + " · " + item.name + " (" + item.code + ") · " + label;
      row.setAttribute("data-code", item.code);
      row.setAttribute("data-result", item.result || "waiting");
      out.appendChild(row);
    });
    var starts = {};
    (day ? day.slots : []).forEach(function (slot) { starts[slot.id] = slot.starts + " " + slot.tour; });
    (day ? day.tickets : []).forEach(function (entry) {
      if (items.some(function (item) { return item.code === entry.code; })) { return; }
      var row = document.createElement("li");
      var stateName = root.getAttribute("data-state-" + entry.state) || entry.state;
      row.textContent = (starts[entry.slot] || "") + " · " + entry.name + " · " + entry.party + " · " + stateName +
        (entry.checked_in_at ? " " + entry.checked_in_at : "");
      out.appendChild(row);
    });
  }

  function refresh() {
    return fetch(root.getAttribute("data-list"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer && String(answer.farm) === farm) {
          day = answer;
          csrf = day.csrf || csrf;
          /* answers of an earlier day are of no more use */
          write(queueKey, queue().filter(function (item) {
            return !item.result || dayFormat.format(new Date(item.at)).split("-").join("") === day.day;
          }));
        }
        render();
      }, function () { render(); });
  }

  function send() {
    var waiting = queue().filter(function (item) { return !item.result; });
    if (syncing || !navigator.onLine || !waiting.length) { return Promise.resolve(); }
    syncing = true;
    var events = waiting.map(function (item) { return {id: item.id, code: item.code, token: item.token, at: item.at}; });
    return refresh().then(function () {
      return fetch(root.getAttribute("data-sync"), {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf}, body: JSON.stringify({events: events})});
    }).then(function (response) { return response.ok && !response.redirected ? response.json() : null; })
      .then(function (body) {
        notSent = !(body && body.answers);
        if (!notSent) {
          var byId = {};
          body.answers.forEach(function (answer) { byId[answer.id] = answer; });
          write(queueKey, queue().map(function (item) {
            var answer = byId[item.id];
            if (answer) { item.result = answer.result; item.reason = answer.reason; item.answer_at = answer.at; }
            return item;
          }));
          return refresh();
        }
      }, function () { notSent = true; })
      .then(function () { syncing = false; render(); }, function () { syncing = false; render(); });
  }

  $("[data-check]").hidden = false;
  $("[data-check]").addEventListener("submit", function (event) {
    event.preventDefault();
    check($("#offline-code").value);
  });
  $("[data-checkin]").addEventListener("click", checkIn);
  window.addEventListener("online", function () { render(); send(); });
  window.addEventListener("offline", render);

  if ("serviceWorker" in navigator) {
    var worker = root.getAttribute("data-worker");
    ["/farmer/checkin/", "/checkin/"].forEach(function (scope) {
      navigator.serviceWorker.register(worker, {scope: scope}).catch(function () { return null; });
    });
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active && location.pathname.indexOf("/checkin/") !== 0) {
        registration.active.postMessage({keep: [location.pathname + location.search, root.getAttribute("data-list")]});
      }
    });
  }
  render();
  refresh().then(function () {
    if (location.pathname.indexOf("/checkin/") === 0) { check(location.pathname); }
    send();
  });
})();
