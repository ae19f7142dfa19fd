// The new-project form: the labeling config is checked as it is typed.
"use strict";

(() => {
  const config = document.getElementById("label_config");
  const status = document.getElementById("config-status");
  if (!config) return;
  const token = document.querySelector('meta[name="csrf-token"]').content;
  let timer;
  let asked = 0;

  function describe(controls) {
    return Object.entries(controls)
      .map(([name, control]) => {
        const labels = control.labels.length ? `: ${control.labels.join(", ")}` : "";
        return `${name} (${control.type} on ${control.to_name.join(", ")}${labels})`;
      })
      .join("; ");
  }

  async function check() {
    const mine = ++asked;
    const response = await fetch(config.dataset.checkUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify({ label_config: config.value }),
    });
    if (mine !== asked) return; // a later check is on its way
    if (!response.ok) {
      status.textContent = "The config could not be checked; it will be when the form is sent.";
      status.className = "config-status";
      return;
    }
    const answer = await response.json();
    config.setAttribute("aria-invalid", answer.valid ? "false" : "true");
    status.className = `config-status ${answer.valid ? "valid" : "invalid"}`;
    status.textContent = answer.valid
      ? `Valid. Labels ${describe(answer.controls)}; reads ${answer.data_fields.map((f) => "$" + f).join(", ")}.`
      : answer.message;
  }

  config.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
  check();
})();
