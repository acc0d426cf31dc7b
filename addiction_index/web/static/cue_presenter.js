// addiction-index: the cue presenter (resident's screen). It follows the session's own clock
// (synchronised over the WebSocket twice a second, its rate measured between syncs) and shows
// each cue at its scheduled time; every cue shown is reported back with its time on the
// session clock, and stored as a "cue_shown" marker beside the scheduled "cue" marker.
"use strict";
(function () {
  const root = document.getElementById("presenter");
  if (!root) return;
  const L = window.aiLive, stage = document.getElementById("stage");
  const status = document.getElementById("presenter-status");
  let schedule = [], syncs = [], pingId = 0, sentAt = {}, shown = null, state = "starting";
  let lastNow = -Infinity;

  // Seconds on the session clock, or null before the first sync. The clock advances at the rate
  // measured between syncs (a simulation may run slower than its nominal speed when the server
  // is busy), and never goes backwards on this screen.
  function sessionNow() {
    if (!syncs.length) return null;
    const last = syncs[syncs.length - 1], first = syncs[0];
    let rate = last.speed;
    if (last.at - first.at >= 1000) {
      rate = Math.min(last.speed, Math.max(0, (last.nowS - first.nowS) / ((last.at - first.at) / 1000)));
    }
    lastNow = Math.max(lastNow, last.nowS + (performance.now() - last.at) / 1000 * rate);
    return lastNow;
  }
  function ping() {
    pingId += 1;
    sentAt[pingId] = performance.now();
    conn.send({ type: "ping", id: pingId });
  }
  function onPong(m) {
    const sent = sentAt[m.id];
    delete sentAt[m.id];
    if (sent === undefined || m.now_s === null) return;
    const now = performance.now();
    syncs.push({ nowS: m.now_s, at: sent + (now - sent) / 2, speed: m.speed || 1 });
    while (syncs.length > 2 && now - syncs[0].at > 5000) syncs.shift();
  }
  let pictures = {};
  const loaded = {};
  function picture(set, number) {  // the preloaded image when there is one
    const key = set + "/" + number;
    const img = loaded[key] || L.el("img", { src: root.dataset.pictures + "/" + key });
    img.setAttribute("alt", "");
    delete loaded[key];
    return img;
  }
  function preload(set, number) {
    const key = set + "/" + number;
    if (!loaded[key]) loaded[key] = L.el("img", { src: root.dataset.pictures + "/" + key });
  }
  function current(t) {
    const block = schedule.find(function (b) { return b.start_s <= t && t < b.end_s; });
    if (!block) return { key: "none", block: null };
    if (!block.cues) return { key: block.id, block: block };
    const k = Math.floor((t - block.start_s) / block.cues.seconds_per_cue);
    return { key: block.id + "/" + k, block: block, number: k + 1,
             scheduled: block.cues.times_s[k] };
  }
  function render(now) {
    stage.textContent = "";
    if (!now.block) { stage.append(L.el("span", { "class": "fixation" }, "+")); return; }
    if (!now.block.cues) {
      stage.append(L.el("span", { "class": "fixation" }, "+"));
      stage.append(L.el("p", { "class": "presenter-instructions" }, L.message(now.block.instructions || "")));
      return;
    }
    // No picture set ships with the software: a centre installs its own validated set in
    // <data folder>/cues/<set>/; without one a neutral placeholder card is shown.
    const set = now.block.cues.set;
    const card = L.el("div", { "class": "cue", "data-set": set, "data-number": now.number });
    if (pictures[set]) {
      card.append(picture(set, now.number));
      preload(set, now.number + 1);
    } else {
      card.append(L.el("p", {}, L.t("picture", "{set} picture {number}", { set: set, number: now.number })));
    }
    stage.append(card);
  }
  function frame() {
    const t = sessionNow();
    if (t !== null && state === "running") {
      const now = current(t);
      if (!shown || now.key !== shown.key) {
        render(now);
        shown = now;
        if (now.number) {
          // reported at the next frame: when the browser has painted it
          window.requestAnimationFrame(function () {
            conn.send({ type: "cue_shown", block: now.block.id, number: now.number,
                        session_t: sessionNow(), scheduled_s: now.scheduled });
          });
        }
      }
      status.textContent = "";
    }
    window.requestAnimationFrame(frame);
  }
  function handle(m) {
    if (m.type === "hello") {
      schedule = m.schedule || [];
      pictures = m.cue_pictures || {};
      state = m.state;
      ping();
      schedule.forEach(function (b) { if (b.cues && pictures[b.cues.set]) preload(b.cues.set, 1); });
    }
    else if (m.type === "pong") onPong(m);
    else if (m.type === "state") {
      state = m.state;
      if (state !== "running") {
        stage.textContent = "";
        status.textContent = L.t("session_ended", "The session has ended. Thank you.");
        conn.stop();
      }
    }
  }
  const conn = L.socket(root.dataset.socket, handle, function (s) {
    if (s !== L.t("live", "live")) status.textContent = s;
  });
  window.aiCuePresenter = conn;
  window.setInterval(ping, 500);
  document.addEventListener("keydown", function (event) {
    if (event.key === "f" || event.key === "F") document.documentElement.requestFullscreen();
  });
  window.requestAnimationFrame(frame);
})();
