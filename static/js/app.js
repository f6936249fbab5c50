// crmadmin's own script: small, no inline code anywhere (strict CSP).
(function () {
  "use strict";

  // Messages sent with htmx responses (HX-Trigger "messages") join the message area.
  document.body.addEventListener("messages", function (event) {
    var area = document.getElementById("messages");
    if (!area || !event.detail || !event.detail.value) return;
    event.detail.value.forEach(function (message) {
      var box = document.createElement("div");
      box.className = "alert alert-" + message.level;
      box.setAttribute("role", "status");
      box.textContent = message.text;
      area.appendChild(box);
    });
  });

  // A form shown again with errors: focus goes to the first field that needs correcting
  // (Django marks it aria-invalid), so a keyboard or screen-reader user starts there.
  var invalid = document.querySelector('#main [aria-invalid="true"]');
  if (invalid) {
    invalid.focus();
  }

  // "/" focuses the page's search box, as in most admin tools.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (document.activeElement && document.activeElement.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    var search = document.querySelector("input[type=search]");
    if (search) {
      event.preventDefault();
      search.focus();
      search.select();
    }
  });
})();
