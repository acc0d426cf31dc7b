// addiction-index: helpers shared by the live pages (loaded before each page's script).
"use strict";
window.aiLive = (function () {
  // The page's texts in its language (a JSON data block rendered by the server; English if none).
  const I18N = (function () {
    const node = document.getElementById("i18n-texts");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
  })();
  function t(key, fallback, vars) {
    let text = (I18N.texts || {})[key] || fallback;
    Object.keys(vars || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(vars[k])); });
    return text;
  }
  function word(w) { return (I18N.words || {})[w] || w; }
  function message(m) { return (I18N.messages || {})[m] || m; }
  // Open the page's WebSocket (same host) and reconnect after a drop until stop() is called.
  function socket(path, onMessage, onStatus) {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
    const state = { ws: null, stopped: false, latencies: [], messages: 0 };
    function open() {
      const ws = new WebSocket(url);
      state.ws = ws;
      ws.onopen = function () { onStatus(t("live", "live")); };
      ws.onclose = function () {
        if (state.stopped) return;
        onStatus(t("reconnecting", "disconnected; reconnecting…"));
        window.setTimeout(open, 2000);
      };
      ws.onmessage = function (event) {
        const message = JSON.parse(event.data);
        state.messages += 1;
        if (typeof message.recv === "number") {  // server arrival → here, in ms
          state.latencies.push(Date.now() - 1000 * message.recv);
          if (state.latencies.length > 5000) state.latencies.splice(0, 1000);
        }
        onMessage(message);
      };
    }
    open();
    state.send = function (message) {
      if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
    };
    state.stop = function () { state.stopped = true; if (state.ws) state.ws.close(); };
    return state;
  }
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function fmt(value, digits) {
    return value === null || value === undefined ? "—" : Number(value).toFixed(digits || 0);
  }
  function clock(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const s = Math.max(0, Math.round(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  return { socket: socket, el: el, fmt: fmt, clock: clock, t: t, word: word, message: message };
})();
