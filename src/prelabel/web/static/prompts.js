// The prompts workspace: variables inserted into the template, the model following the
// connection, the estimate of a run before it starts, and a run's progress while it runs.
"use strict";

(() => {
  // A variable chip inserts {field} at the template's cursor (at its end if it was never
  // focused) and gives the focus back to the template, after what it inserted.
  const touched = new WeakSet();
  document.addEventListener("focusin", (event) => {
    if (event.target.matches("textarea")) touched.add(event.target);
  });
  document.addEventListener("click", (event) => {
    const chip = event.target.closest("[data-insert]");
    if (!chip) return;
    const area = document.getElementById(chip.dataset.into);
    const [start, end] = touched.has(area)
      ? [area.selectionStart, area.selectionEnd]
      : [area.value.length, area.value.length];
    area.setRangeText(chip.dataset.insert, start, end, "end");
    area.focus();
    area.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // Choosing another connection proposes its default model, unless a model was typed.
  const connection = document.getElementById("connection");
  const model = document.getElementById("model");
  if (connection && model) {
    const defaultModel = () => connection.selectedOptions[0]?.dataset.defaultModel ?? "";
    let proposed = defaultModel();
    connection.addEventListener("change", () => {
      const next = defaultModel();
      if (next && (!model.value || model.value === proposed)) model.value = next;
      proposed = next;
    });
  }

  // A refused form reopens the dialog it was sent from.
  document.querySelector("[data-open-on-load]")?.closest("dialog")?.showModal();

  // The estimate is a piece of page made by the server for the chosen baseline.
  async function estimate(box, query) {
    const asked = (box.asked = (box.asked || 0) + 1);
    const url = box.dataset.estimateUrl;
    box.setAttribute("aria-busy", "true");
    let html;
    try {
      const response = await fetch(query ? `${url}?${query}` : url);
      html =
        response.ok && !response.redirected
          ? await response.text()
          : '<p class="estimate-problem">The estimate could not be made; reload the page.</p>';
    } catch {
      html = '<p class="estimate-problem">The server could not be reached for an estimate.</p>';
    }
    if (asked !== box.asked) return; // a later estimate is on its way
    box.innerHTML = html;
    box.removeAttribute("aria-busy");
  }

  const runForm = document.getElementById("run-form");
  const box = document.getElementById("estimate");
  if (runForm && box) {
    const sample = runForm.elements.sample_size;
    const query = () =>
      new URLSearchParams({
        baseline: runForm.elements.baseline.value,
        sample_size: sample.value,
      }).toString();
    let timer;
    runForm.addEventListener("change", () => estimate(box, query()));
    sample.addEventListener("input", () => {
      runForm.querySelector('input[name="baseline"][value="sample"]').checked = true;
      clearTimeout(timer);
      timer = setTimeout(() => estimate(box, query()), 300);
    });
    estimate(box, query());
  }
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-estimate-into]");
    if (opener) estimate(document.getElementById(opener.dataset.estimateInto), "");
  });

  // A run in progress: poll its progress; when it ends, put its report (and what it
  // changed: the runs, the counts, the Save confirmation) in place without touching the
  // editor, which may hold unsaved changes.
  const panel = document.querySelector("[data-progress-url]");
  if (!panel) return;
  const bar = panel.querySelector("progress");
  const REPLACED = ["run", "runs-card", "history-card", "editor-predictions", "save-controls", "save-dialog"];

  function show(state) {
    bar.max = state.total;
    bar.value = state.finished;
    bar.textContent = `${state.percent}%`;
    for (const element of document.getElementById("run").querySelectorAll("[data-progress]")) {
      element.textContent = state[element.dataset.progress] ?? "";
    }
  }

  async function ended() {
    const response = await fetch(panel.dataset.pageUrl);
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const hadFocus = document.getElementById("run").contains(document.activeElement);
    for (const id of REPLACED) {
      const element = fresh.getElementById(id);
      if (element) document.getElementById(id)?.replaceWith(document.adoptNode(element));
    }
    if (hadFocus) document.getElementById("run").focus();
  }

  async function poll() {
    let state;
    try {
      const response = await fetch(panel.dataset.progressUrl);
      if (!response.ok || response.redirected) throw new Error(`status ${response.status}`);
      state = await response.json();
    } catch {
      panel.querySelector('[data-progress="eta_text"]').textContent =
        "the progress could not be read; reload the page";
      return;
    }
    show(state);
    if (state.active) setTimeout(poll, 1000);
    else await ended();
  }
  setTimeout(poll, 1000);
})();
