// Follow a pending swap: poll its status URL and reload the page once it is final.
// Starts at ~1.5 s, slows down gradually (and more on errors), and gives up after a few
// minutes, leaving a manual link; without JS the page's <noscript> refresh does the job.
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url]");
  if (!box || box.getAttribute("data-final") === "true" || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var message = box.querySelector("[data-status-message]");
  var hint = box.querySelector("[data-status-hint]");
  var FIRST_DELAY_MS = 1500;
  var MAX_DELAY_MS = 10000;
  var GIVE_UP_AFTER_MS = 5 * 60 * 1000;
  var WORDS = { pending: "Waiting for a free worker…", processing: "Swapping faces…" };
  var delay = FIRST_DELAY_MS;
  var startedAt = Date.now();

  function schedule(factor) {
    delay = Math.round(Math.min(delay * factor, MAX_DELAY_MS));
    if (Date.now() - startedAt > GIVE_UP_AFTER_MS) {
      giveUp();
      return;
    }
    window.setTimeout(poll, delay);
  }

  function giveUp() {
    if (hint) {
      hint.textContent = "This is taking longer than usual. ";
      var link = document.createElement("a");
      link.href = window.location.href;
      link.textContent = "Check again";
      hint.appendChild(link);
    }
  }

  function show(status) {
    if (message && WORDS[status]) {
      var spinner = message.querySelector(".spinner");
      message.textContent = " " + WORDS[status];
      if (spinner) {
        message.insertBefore(spinner, message.firstChild);
      }
    }
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
        if (data.is_final) {
          window.location.reload();
          return;
        }
        show(data.status);
        schedule(1.15);
      })
      .catch(function () {
        schedule(2);
      });
  }

  window.setTimeout(poll, FIRST_DELAY_MS);
})();
