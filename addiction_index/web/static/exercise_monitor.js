// addiction-index: the coaches' zone monitor (WebSocket /ws/exercise), one tile per resident.
"use strict";
(function () {
  const root = document.getElementById("monitor");
  if (!root) return;
  const L = window.aiLive, tiles = document.getElementById("tiles"), csrf = root.dataset.csrf;
  const byId = {};

  function form(action, fields, label) {
    const f = L.el("form", { method: "post", action: action, "class": "stack" });
    f.append(L.el("input", { type: "hidden", name: "csrf_token", value: csrf }));
    fields.forEach(function (field) { f.append(field); });
    f.append(L.el("button", { type: "submit" }, label));
    return f;
  }
  function labelled(text, attrs) {
    const label = L.el("label", {}, text + " ");
    label.append(L.el("input", attrs));
    return label;
  }
  function tile(m) {
    let t = byId[m.live];
    if (!t) {
      t = { node: L.el("article", { "class": "card tile", "data-live": m.live, "data-code": m.code }) };
      t.node.append(
        L.el("h3", {}, m.code),
        L.el("p", { "class": "bpm" }, "—"),
        L.el("p", { "class": "zone-line" }, ""),
        L.el("p", { "class": "phase muted" }, ""),
        L.el("p", { "class": "message", role: "status" }, ""),
        L.el("div", { "class": "actions" }, ""));
      byId[m.live] = t;
      tiles.prepend(t.node);
    }
    t.zone = m.zone || t.zone;
    t.ceiling = m.ceiling || t.ceiling;
    t.node.querySelector(".zone-line").textContent =
      L.t("zone_line", "zone {low}-{high} bpm · ceiling {ceiling}",
          { low: t.zone[0].toFixed(0), high: t.zone[1].toFixed(0), ceiling: t.ceiling.toFixed(0) });
    return t;
  }
  function showHr(m) {
    const t = tile(m);
    t.node.querySelector(".bpm").textContent = L.fmt(m.bpm, 0) + " bpm";
    t.node.dataset.zoneClass = m.zone_class || "lost";
    t.node.querySelector(".phase").textContent = L.word(m.phase).replace("_", " ") + " · " +
      L.t("left", "{time} left", { time: L.clock(m.left_s) });
  }
  function showEvent(m) {
    const t = tile(m), message = t.node.querySelector(".message");
    message.textContent = L.message(m.message);
    message.className = "message " + m.severity;
    if (m.severity === "alert" || m.severity === "warning") {
      message.setAttribute("role", "alert");
      t.node.dataset.severity = m.severity;
    }
  }
  function showActions(m) {
    const t = tile(m), actions = t.node.querySelector(".actions");
    actions.textContent = "";
    if (m.state === "running") {
      actions.append(form("/exercise/live/" + m.live + "/stop", [], L.t("stop", "Stop")));
      return;
    }
    t.node.dataset.state = "ended";
    t.node.querySelector(".phase").textContent = L.t("ended", "ended: {status}", { status: L.word(m.status || "") }) + (m.reason ? " (" + m.reason + ")" : "");
    if (m.exercise_id) {
      actions.append(form("/exercise/" + m.exercise_id + "/ratings", [
        labelled(L.t("rpe", "RPE (6-20)"), { name: "rpe", type: "number", min: "6", max: "20", step: "1" }),
        labelled(L.t("craving_now", "Craving now (0-100)"), { name: "post_craving", type: "number", min: "0", max: "100" }),
      ], L.t("save_ratings", "Save ratings")));
    }
  }
  function handle(m) {
    if (m.type === "tile" || m.type === "ended") {
      tile(m);
      if (m.last) showHr(m.last);
      (m.events || []).forEach(showEvent);
      showActions(m);
    } else if (m.type === "hr") showHr(m);
    else if (m.type === "event") showEvent(m);
  }
  window.aiZoneMonitor = L.socket(root.dataset.socket, handle, function (s) {
    document.getElementById("connection").textContent = s;
  });
})();
