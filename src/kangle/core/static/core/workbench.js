/* On a phone the workbench's menu starts folded, so that the page's own work is on the first screen; a wider
   screen keeps it open beside the page. Loaded right after the menu, before the page below it is painted. */
(function () {
  var menu = document.querySelector(".wb-nav-menu");
  if (menu && window.matchMedia && window.matchMedia("(max-width: 760px)").matches) {
    menu.open = false;
  }
})();
