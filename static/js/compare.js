// Before/after on the job page: a slider uncovers the result over the original, and
// zoom buttons enlarge both together (the frame scrolls). Without JS both images show
// one after the other.
const ZOOMS = [1, 1.5, 2, 3, 4];

const box = document.querySelector("[data-compare]");
if (box && box.querySelector(".compare-before")) {
  box.querySelectorAll("[data-js-only]").forEach((element) => {
    element.hidden = false;
  });
  const frame = box.querySelector("[data-compare-frame]");
  const range = box.querySelector("[data-compare-range]");
  const level = box.querySelector("[data-zoom-level]");
  let zoom = 0;
  frame.classList.add("compare-stacked");
  const show = () => {
    frame.style.setProperty("--split", `${range.value}%`);
    range.setAttribute("aria-valuetext", `${100 - Number(range.value)}% after`);
  };
  range.addEventListener("input", show);
  show();
  box.querySelectorAll("[data-zoom]").forEach((button) => {
    button.addEventListener("click", () => {
      const step = button.dataset.zoom === "in" ? 1 : -1;
      zoom = Math.min(ZOOMS.length - 1, Math.max(0, zoom + step));
      frame.style.setProperty("--zoom", String(ZOOMS[zoom]));
      level.textContent = `${ZOOMS[zoom] * 100}%`;
    });
  });
}
