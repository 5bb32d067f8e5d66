/* Phone pages: the few behaviours that need a script (served as a file: the pages allow no inline script).
   - After a rejected form, move to the first field with an error: scroll it into view and focus it.
   - A form marked data-once is sent once: a second tap while the first is on its way does nothing. */
(function () {
  "use strict";
  function focusFirstError() {
    var field = document.querySelector('[aria-invalid="true"]');
    if (!field) { return; }
    field.scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
  }
  function sendOnce(event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-once")) { return; }
    if (form.getAttribute("data-sending") === "1") { event.preventDefault(); return; }
    form.setAttribute("data-sending", "1");
    form.setAttribute("aria-busy", "true");
  }
  document.addEventListener("submit", sendOnce, true);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirstError);
  } else {
    focusFirstError();
  }
})();
