// addiction-index centre pages: a small, dependency-free script shipped with the package.
// It warns before the idle timeout signs the user out, and confirms identity changes.
"use strict";
(function () {
  const IDLE_WARNING_MS = 25 * 60 * 1000; // the server signs out after 30 min without a request
  if (document.querySelector("form[action='/logout']")) {
    window.setTimeout(function () {
      const note = document.createElement("p");
      note.className = "statement";
      note.setAttribute("role", "alert");
      const node = document.getElementById("i18n-texts");
      let texts = {};
      try { texts = node ? JSON.parse(node.textContent).texts || {} : {}; } catch (e) { texts = {}; }
      note.textContent = texts.idle_warning || "You will be signed out in about 5 minutes without activity.";
      document.querySelector("main").prepend(note);
    }, IDLE_WARNING_MS);
  }
  document.querySelectorAll("form[action$='/identity']").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      const question = form.dataset.confirm || "Save these identifying details (encrypted)?";
      if (!window.confirm(question)) event.preventDefault();
    });
  });
})();
