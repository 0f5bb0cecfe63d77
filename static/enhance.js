// Project page: run a preset on the selected photos (or all of them) and follow the batch with a
// progress bar, through the same API the apps use.
(function () {
  "use strict";
  const panel = document.getElementById("enhance");
  if (!panel) return;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const bar = document.getElementById("batch-progress");
  const state = document.getElementById("batch-state");
  const button = document.getElementById("run-preset");
  const presets = document.getElementById("preset");

  // The presets this user may run (shipped, their own, their agencies'), from the API.
  fetch(presets.dataset.api, { credentials: "same-origin" })
    .then((response) => response.json())
    .then((list) => {
      for (const preset of list) {
        const suffix = preset.scope === "system" ? "" : ` (${preset.scope})`;
        presets.add(new Option(preset.name + suffix, preset.id));
      }
    });

  function chosenPhotos() {
    const picked = [...document.querySelectorAll("#photo-grid .pick:checked")].map((box) => box.value);
    return picked.length ? picked : [...document.querySelectorAll("#photo-grid .pick")].map((box) => box.value);
  }

  async function follow(batchId) {
    for (;;) {
      const response = await fetch(panel.dataset.batches + batchId + "/", { credentials: "same-origin" });
      const batch = await response.json();
      bar.value = batch.progress;
      state.textContent = `${batch.succeeded} done, ${batch.running} running, ${batch.queued} queued` +
        (batch.failed ? `, ${batch.failed} failed` : "") + ` — ${batch.progress}%`;
      if (batch.finished) return batch;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  button.addEventListener("click", async () => {
    const photos = chosenPhotos();
    if (!photos.length) { state.textContent = "No ready photos yet."; return; }
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    state.className = "muted";
    state.textContent = "Starting…";
    try {
      const response = await fetch(panel.dataset.api, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({
          photos,
          preset: document.getElementById("preset").value,
          lane: document.getElementById("lane").value,
          bracket: document.getElementById("bracket").checked,
        }),
      });
      const body = await response.json();
      if (!response.ok) {
        state.className = "error";
        state.textContent = body.error ? body.error.message : "Could not start (" + response.status + ")";
        return;
      }
      if (document.getElementById("lane").value === "offpeak") {
        state.textContent = `${body.jobs.length} job(s) queued for the off-peak window.`;
        return;
      }
      const batch = await follow(body.batch.id);
      state.textContent += batch.failed ? "" : " — reloading";
      if (!batch.failed) window.location.reload();
    } finally {
      button.disabled = false;
    }
  });
})();
