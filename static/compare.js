// Before/after on the photo page: the slider moves the split (no inline script: CSP).
(function () {
  const figure = document.getElementById("compare");
  if (!figure) return;
  const range = document.getElementById("compare-range");
  range.addEventListener("input", () => figure.style.setProperty("--position", range.value + "%"));
})();
