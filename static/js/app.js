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

  // Buttons and links with data-confirm ask before they act.
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

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
