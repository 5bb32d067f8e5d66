/* On a phone the workbench's menu starts folded, so that the page's own work is on the first screen; a wider
   screen keeps it open beside the page. Loaded right after the menu, before the page below it is painted.
   760 px is workbench.css's phone width: the two change together. */
(function () {
  var menu = document.querySelector(".wb-nav-menu");
  if (menu && window.matchMedia && window.matchMedia("(max-width: 760px)").matches) {
    menu.open = false;
  }
})();
