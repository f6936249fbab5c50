// Customer screens. The form: remove a phone row in place (the "Add phone" button is
// plain htmx). The list: keep the pushed address short by leaving out empty filters.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-phone]");
    if (!button) return;
    event.preventDefault();
    var row = button.closest(".phone-row");
    var rows = row && row.parentElement;
    if (!rows) return;
    var input = row.querySelector("input");
    if (rows.querySelectorAll(".phone-row").length <= 1) {
      // One phone is required: the last row stays, emptied, ready for a new number.
      input.value = "";
      input.focus();
      return;
    }
    var neighbour = row.previousElementSibling || row.nextElementSibling;
    row.remove();
    limitPhoneRows();
    var next = neighbour && neighbour.querySelector("input");
    if (next) next.focus();
  });

  // "Add phone" is disabled once the form has as many rows as a customer may have phones.
  function limitPhoneRows() {
    var add = document.getElementById("add-phone");
    var rows = document.getElementById("phone-rows");
    if (!add || !rows) return;
    var most = parseInt(add.getAttribute("data-max-phones"), 10);
    add.disabled = rows.querySelectorAll(".phone-row").length >= most;
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "phone-rows") limitPhoneRows();
  });

  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt.closest("#customer-search")) return;
    var parameters = event.detail.parameters;
    ["q", "status", "type", "group"].forEach(function (name) {
      if (parameters[name] === "") delete parameters[name];
    });
  });
})();
