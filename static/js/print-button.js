// A Print button for pages meant for paper (the receipt, the packing slip): buttons marked
// data-print are hidden in the HTML and shown here, so a browser without JavaScript shows none.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
})();
