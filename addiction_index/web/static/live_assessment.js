// addiction-index: the clinician's live assessment page (WebSocket /ws/assessments/{id}).
"use strict";
(function () {
  const root = document.getElementById("live");
  if (!root) return;
  const L = window.aiLive, $ = function (id) { return document.getElementById(id); };
  const EEG_SECONDS = 5, HR_SECONDS = 120;
  let schedule = [], totalS = 0, eeg = {}, eegFs = 64, heart = [], lastT = 0;
  let openRating = null;

  function setState(state, sessionId, error) {
    $("state").textContent = L.word(state) + (error ? ": " + error : "");
    $("state").dataset.state = state;
    if (state === "completed" && sessionId) {
      $("report").href = "/sessions/" + sessionId;
      $("done").hidden = false;
      $("stop").hidden = true;
      conn.stop();
      $("connection").textContent = L.t("finished", "finished");
    } else if (state === "stopped" || state === "failed") {
      $("stop").hidden = true;
      conn.stop();
      $("connection").textContent = L.word(state);
    }
  }
  function showHop(h) {
    lastT = h.t;
    $("block").textContent = h.block ? h.block + " (" + L.word(h.role) + ")" : "—";
    $("block-left").textContent = h.block_left_s === null ? "" : L.t("left", "{time} left", { time: L.clock(h.block_left_s) });
    $("progress").value = totalS ? Math.min(1, h.t / totalS) : 0;
    const block = schedule.find(function (b) { return b.id === h.block; });
    $("instructions").textContent = block ? L.message(block.instructions || "") : "";
    $("craving").textContent = L.fmt(h.craving, 1);
    $("confidence").textContent = h.craving === null ? L.t("collecting", "collecting the resting baseline…") : L.fmt(h.confidence, 2);
    $("hr").textContent = L.fmt(h.hr_bpm, 0);
    $("rmssd").textContent = L.fmt(h.rmssd_ms, 0);
    const list = $("quality");
    list.textContent = "";
    Object.keys(h.quality).forEach(function (name) {
      const item = L.el("li", { "class": "light " + h.quality[name], "data-channel": name });
      item.append(L.el("span", { "class": "dot", "aria-hidden": "true" }), " " + name + ": " + L.word(h.quality[name]));
      list.append(item);
    });
  }
  function showDevices(devices) {
    const list = $("devices");
    list.textContent = "";
    devices.forEach(function (d) {
      list.append(L.el("li", { "class": "device " + d.state }, d.name + ": " + L.word(d.state)));
    });
  }
  function addMarker(m) {
    if (m.label === "cue" || m.label === "cue_shown") return;  // too many to list
    const text = L.clock(m.t) + "  " + m.label + (m.block ? " " + m.block : "") +
      (m.value !== null && m.value !== undefined ? " = " + m.value : "");
    $("markers").prepend(L.el("li", {}, text));
  }
  function askRating(moment, question) {
    openRating = moment;
    $("rating-question").textContent = L.message(question);
    $("rating").hidden = false;
    $("rating-value").value = "";
    $("rating-value").focus();
  }
  function appendEeg(m) {
    eegFs = m.fs;
    m.channels.forEach(function (ch, i) {
      const trace = eeg[ch] || (eeg[ch] = []);
      Array.prototype.push.apply(trace, m.samples[i]);
      const keep = Math.round(EEG_SECONDS * eegFs);
      if (trace.length > keep) trace.splice(0, trace.length - keep);
    });
  }
  function handle(m) {
    switch (m.type) {
      case "hello":
        schedule = m.schedule || [];
        totalS = schedule.length ? schedule[schedule.length - 1].end_s : 0;
        if (m.last_hop) showHop(m.last_hop);
        showDevices(m.devices || []);
        $("markers").textContent = "";
        (m.markers || []).forEach(addMarker);
        (m.pending_ratings || []).forEach(function (r) { askRating(r.moment, r.question); });
        setState(m.state, m.session_id, m.error);
        break;
      case "hop": showHop(m); break;
      case "eeg": appendEeg(m); break;
      case "hr":
        m.t.forEach(function (t, i) { heart.push([t, m.bpm[i]]); });
        while (heart.length && heart[0][0] < m.t[m.t.length - 1] - HR_SECONDS) heart.shift();
        break;
      case "marker": addMarker(m); break;
      case "devices": showDevices(m.devices); break;
      case "rating_request": askRating(m.moment, m.question); break;
      case "rating_closed":
        if (openRating === m.moment) { $("rating").hidden = true; openRating = null; }
        break;
      case "state": setState(m.state, m.session_id, m.error); break;
    }
  }
  function drawEeg() {
    const canvas = $("eeg"), g = canvas.getContext("2d");
    g.clearRect(0, 0, canvas.width, canvas.height);
    const names = Object.keys(eeg), lane = canvas.height / Math.max(1, names.length);
    const n = Math.round(EEG_SECONDS * eegFs);
    names.forEach(function (ch, k) {
      const trace = eeg[ch];
      if (!trace.length) return;
      const mean = trace.reduce(function (a, b) { return a + b; }, 0) / trace.length;
      g.fillStyle = "#5b6770";
      g.fillText(ch, 4, k * lane + 12);
      g.strokeStyle = "#1f6f8b";
      g.beginPath();
      trace.forEach(function (v, i) {
        const x = canvas.width * (i + n - trace.length) / n;
        const y = (k + 0.5) * lane - (v - mean) * lane / 200;  // ±100 µV per lane
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    });
  }
  function drawHeart() {
    const canvas = $("heart"), g = canvas.getContext("2d");
    g.clearRect(0, 0, canvas.width, canvas.height);
    if (!heart.length) return;
    const end = heart[heart.length - 1][0], lo = 40, hi = 160;
    g.strokeStyle = "#a3211c";
    g.beginPath();
    heart.forEach(function (p, i) {
      const x = canvas.width * (1 - (end - p[0]) / HR_SECONDS);
      const y = canvas.height * (1 - (p[1] - lo) / (hi - lo));
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  }
  function frame() { drawEeg(); drawHeart(); window.requestAnimationFrame(frame); }

  const conn = L.socket(root.dataset.socket, handle, function (s) { $("connection").textContent = s; });
  window.aiLiveAssessment = conn;  // its latencies are read by the browser tests
  $("rating-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const value = Number($("rating-value").value);
    if (openRating && value >= 0 && value <= 100) conn.send({ type: "rating", moment: openRating, value: value });
  });
  $("rating-skip").addEventListener("click", function () {
    if (openRating) conn.send({ type: "rating", moment: openRating, value: null });
  });
  $("stop").addEventListener("submit", function (event) {
    if (!window.confirm(L.t("confirm_stop", "Stop the assessment now? What was recorded is kept."))) event.preventDefault();
  });
  window.requestAnimationFrame(frame);
})();
