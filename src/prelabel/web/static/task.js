// The task page: each label shows in its own colour. The colours come from the labeling config,
// so no stylesheet can list them, and the Content-Security-Policy refuses inline styles; a
// colour set from a script is allowed, and an invalid one is simply ignored.
"use strict";

for (const element of document.querySelectorAll("[data-color]")) {
  element.style.setProperty("--label-color", element.dataset.color);
}
