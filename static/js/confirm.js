// Ask before destructive POST forms (<form data-confirm="...">). Without JS the form
// still works: the server-side action is the source of truth, this is only a guard.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
