// Follow a running swap: read its status (one indexed row, a few columns) every
// POLL_MS, show the stage and GIF frames done, and reload the page the moment it ends,
// so the result appears within about POLL_MS of the worker finishing. After
// FAST_FOR_MS it slows to SLOW_POLL_MS; without JS the page's <noscript> refresh does it.
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url]");
  if (!box || box.getAttribute("data-final") === "true" || !window.fetch) {
    return;
  }
  var POLL_MS = 250;
  var SLOW_POLL_MS = 2000;
  var FAST_FOR_MS = 3 * 60 * 1000;
  var GIVE_UP_AFTER_MS = 30 * 60 * 1000;
  var WORDS = { waiting: "Waiting for a free worker…", swapping: "Swapping faces…" };
  var url = box.getAttribute("data-status-url");
  var text = box.querySelector("[data-status-text]");
  var hint = box.querySelector("[data-status-hint]");
  var frames = box.querySelector("[data-frames]");
  var framesText = box.querySelector("[data-frames-text]");
  var startedAt = Date.now();
  var shownStage = null;

  function showStage(stage) {
    if (stage === shownStage) {
      return;
    }
    shownStage = stage;
    if (text && WORDS[stage]) {
      text.textContent = WORDS[stage];
    }
    var order = ["waiting", "swapping", "done"];
    var at = order.indexOf(stage);
    document.querySelectorAll("[data-stage]").forEach(function (item) {
      var mine = order.indexOf(item.getAttribute("data-stage"));
      item.classList.toggle("stage-current", mine === at);
      item.classList.toggle("stage-past", mine < at);
      if (mine === at) {
        item.setAttribute("aria-current", "step");
      } else {
        item.removeAttribute("aria-current");
      }
    });
  }

  function showFrames(data) {
    if (frames && data.frames_total > 1) {
      frames.value = data.frames_done;
      framesText.textContent = data.frames_done + " of " + data.frames_total;
    }
  }

  function next(delay) {
    var waited = Date.now() - startedAt;
    if (waited > GIVE_UP_AFTER_MS) {
      if (hint) {
        hint.textContent = "This is taking much longer than usual. ";
        var link = document.createElement("a");
        link.href = window.location.href;
        link.textContent = "Check again";
        hint.appendChild(link);
      }
      return;
    }
    window.setTimeout(poll, delay || (waited < FAST_FOR_MS ? POLL_MS : SLOW_POLL_MS));
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store",
                 headers: { Accept: "application/json" } })
      .then(function (response) {
        // 404: deleted meanwhile; redirected: logged out. The page itself explains both.
        if (response.status === 404 || response.redirected) {
          window.location.reload();
          return null;
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (data === null) {
          return;
        }
        showFrames(data);
        if (data.is_final) {
          showStage("done");
          window.location.reload();
          return;
        }
        showStage(data.stage);
        next();
      })
      .catch(function () {
        next(SLOW_POLL_MS);
      });
  }

  poll();
})();
