// Narrow screens show table rows as cards (site.css); each cell is labelled with its
// column's heading, copied here so the templates need not repeat it.
document.querySelectorAll("table.data-table, table.reflow").forEach((table) => {
  const headings = Array.from(table.querySelectorAll("thead th"), (th) => th.textContent.trim());
  table.querySelectorAll("tbody tr").forEach((row) => {
    Array.from(row.children).forEach((cell, i) => {
      if (!cell.hasAttribute("data-label") && headings[i]) {
        cell.setAttribute("data-label", headings[i]);
      }
    });
  });
});
