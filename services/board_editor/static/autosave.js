// Saves the month's draft a moment after the writer stops typing (POST .../autospara, same form,
// same CSRF token and version as "Spara utkast") and shows the answer in the status line.
// Without JavaScript the page works as before: the writer presses "Spara utkast".
(function () {
  "use strict";
  var form = document.getElementById("utkast");
  var status = document.getElementById("autosparat");
  if (!form || !status || form.querySelector("fieldset[disabled]")) { return; }
  var DELAY_MS = parseInt(form.getAttribute("data-autosave-ms"), 10);
  if (!(DELAY_MS > 0)) { return; }
  var timer = null, busy = false, again = false, submitting = false;

  function setVersion(version) {
    document.querySelectorAll("input[name=version]").forEach(function (input) { input.value = version; });
  }

  function save() {
    if (busy) { again = true; return; }
    busy = true;
    status.textContent = "Sparar …";
    fetch(form.getAttribute("action") + "/autospara", {
      method: "POST", body: new FormData(form), credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (response.ok) { setVersion(answer.version); }
        status.textContent = answer.status;
      });
    }).catch(function () {
      status.textContent = "Inte sparat: ingen kontakt med servern. Tryck Spara utkast.";
    }).then(function () {
      busy = false;
      if (submitting) { form.submit(); return; }  // "Spara utkast" waited for this save's version
      if (again) { again = false; save(); }
    });
  }

  // "Spara utkast" cancels a pending autosave and, while one is under way, waits for its new
  // version, so the writer's own autosave never makes the explicit save look stale.
  form.addEventListener("submit", function (event) {
    window.clearTimeout(timer);
    if (busy) { event.preventDefault(); submitting = true; }
  });

  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, DELAY_MS);
  });
}());
