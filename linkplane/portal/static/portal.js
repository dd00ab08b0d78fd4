// The portal's only JavaScript besides htmx. It lives here, not inline in the pages, so
// the Content-Security-Policy can forbid inline scripts (script-src 'self').
(function () {
  "use strict";

  // "Rows per page" applies on change (a plain submit button is shown without scripts).
  function autosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  // The breakout form: another empty CIDR row on demand.
  function cidrRows() {
    const button = document.getElementById("add-cidr");
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      const rows = document.querySelectorAll("[data-cidr-row]");
      const n = rows.length;
      // The same field as the rows shown (vpc_cidr for a VPC, on_prem_cidr for a VPN).
      const first = rows[0].querySelector("input");
      const row = document.createElement("div");
      row.className = "field";
      row.setAttribute("data-cidr-row", "");
      const label = document.createElement("label");
      label.htmlFor = first.name + "-" + n;
      label.textContent = "CIDR " + (n + 1);
      const input = document.createElement("input");
      input.id = first.name + "-" + n;
      input.name = first.name;
      input.type = "text";
      input.placeholder = first.placeholder;
      row.append(label, input);
      rows[n - 1].after(row);
      input.focus();
    });
  }

  function init() { autosubmit(); cidrRows(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
