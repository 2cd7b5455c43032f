/* Sub-menus open and close like WeChat's: a tap on a parent opens its list, a tap elsewhere closes it. */
(function () {
  "use strict";
  const menu = document.getElementById("sim-menu");
  if (!menu) return;
  function closeAll(except) {
    menu.querySelectorAll(".sim-menu-top").forEach(function (top) {
      if (top === except) return;
      const subs = top.querySelector(".sim-menu-subs");
      const parent = top.querySelector(".sim-menu-parent");
      if (subs) subs.hidden = true;
      if (parent) parent.setAttribute("aria-expanded", "false");
    });
  }
  menu.querySelectorAll(".sim-menu-parent").forEach(function (parent) {
    parent.addEventListener("click", function (event) {
      event.stopPropagation();
      const top = parent.closest(".sim-menu-top");
      const subs = top.querySelector(".sim-menu-subs");
      closeAll(top);
      subs.hidden = !subs.hidden;
      parent.setAttribute("aria-expanded", String(!subs.hidden));
    });
  });
  document.addEventListener("click", function (event) { if (!menu.contains(event.target)) closeAll(null); });
})();
