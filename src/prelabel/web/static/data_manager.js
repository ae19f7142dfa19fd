// The Data Manager: choosing tasks (rows, the page, every task the filters keep), moving
// between rows with the keyboard, and adding or removing filter rows.
"use strict";

(() => {
  const table = document.getElementById("tasks");
  const rows = table ? [...table.querySelectorAll("tbody input.row-select")] : [];
  const total = table ? Number(table.dataset.total) : 0;
  const pageBox = document.getElementById("select-page");
  const banner = document.getElementById("select-all-banner");
  const count = document.getElementById("selection-count");
  // true: every task the filters keep, except the rows unticked on this page.
  let everything = false;

  const ticked = () => rows.filter((box) => box.checked).map((box) => box.value);
  const unticked = () => rows.filter((box) => !box.checked).map((box) => box.value);
  const size = () => (everything ? total - unticked().length : ticked().length);
  const tasks = (n) => `${n} task${n === 1 ? "" : "s"}`;

  function refresh() {
    const n = size();
    count.textContent = n === 0 ? "No task selected" : `${tasks(n)} selected`;
    for (const button of document.querySelectorAll("[data-needs-selection]")) {
      button.disabled = n === 0;
    }
    for (const summary of document.querySelectorAll("[data-selection-summary]")) {
      summary.textContent = `Selected: ${tasks(n)}${everything ? " (every task the filters keep)" : ""}.`;
    }
    for (const box of rows) box.closest("tr").classList.toggle("selected", box.checked);
    if (pageBox) {
      pageBox.checked = rows.length > 0 && rows.every((box) => box.checked);
      pageBox.indeterminate = !pageBox.checked && rows.some((box) => box.checked);
    }
    if (banner) {
      const offer = !everything && pageBox?.checked && total > rows.length;
      banner.hidden = !(offer || everything);
      document.getElementById("select-all-text").textContent = everything
        ? `All ${tasks(total)} the filters keep are selected.`
        : `All ${tasks(rows.length)} on this page are selected.`;
      document.getElementById("select-all-toggle").textContent = everything
        ? "Clear selection"
        : `Select all ${tasks(total)}`;
    }
  }

  pageBox?.addEventListener("change", () => {
    for (const box of rows) box.checked = pageBox.checked;
    if (!pageBox.checked) everything = false;
    refresh();
  });
  for (const box of rows) box.addEventListener("change", refresh);
  document.getElementById("select-all-toggle")?.addEventListener("click", () => {
    everything = !everything;
    for (const box of rows) box.checked = everything;
    refresh();
  });

  // Up and down arrows (and Home, End) move between rows; Space ticks, as on any checkbox.
  table?.addEventListener("keydown", (event) => {
    const index = rows.indexOf(event.target);
    if (index < 0) return;
    const next = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: rows.length - 1 }[event.key];
    if (next === undefined || next < 0 || next >= rows.length) return;
    event.preventDefault();
    rows[next].focus();
  });

  // An action's form carries the selection as the server reads it.
  for (const form of document.querySelectorAll("form.action-form")) {
    form.addEventListener("submit", (event) => {
      if (size() === 0) {
        event.preventDefault();
        return;
      }
      for (const old of form.querySelectorAll("input[data-selection]")) old.remove();
      const add = (name, value) => {
        const input = Object.assign(document.createElement("input"), { type: "hidden", name, value });
        input.dataset.selection = "";
        form.append(input);
      };
      add("all", everything ? "true" : "false");
      for (const id of everything ? unticked() : ticked()) add(everything ? "excluded" : "included", id);
    });
  }

  // Filter rows: "Add filter" copies the blank row's template; "×" removes a row.
  const filterRows = document.getElementById("filter-rows");
  const template = document.getElementById("filter-row-template");
  let added = 0;
  document.getElementById("add-filter")?.addEventListener("click", () => {
    added += 1;
    const row = template.content.firstElementChild.cloneNode(true);
    for (const element of row.querySelectorAll("[id], label[for]")) {
      if (element.id) element.id = element.id.replace("new", `added-${added}`);
      if (element.htmlFor) element.htmlFor = element.htmlFor.replace("new", `added-${added}`);
    }
    filterRows.append(row);
    row.querySelector("select").focus();
  });
  filterRows?.addEventListener("click", (event) => {
    const remove = event.target.closest(".remove-filter");
    if (!remove) return;
    remove.closest(".filter-row").remove();
    document.getElementById("add-filter").focus();
  });

  if (count) refresh();
})();
