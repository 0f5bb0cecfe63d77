// Project page: run a preset on the selected photos (or all of them) and follow it live — a
// progress bar per photo on its tile and one for the batch, the result on the tile when a job
// succeeds, the reason and what to do when it fails, and off-peak jobs shown as waiting (also
// after a reload). Presets that cannot run here are listed disabled, with the reason.
(function () {
  "use strict";
  const panel = document.getElementById("enhance");
  if (!panel || !window.PhotoListing) return;
  const { t, api, errorText, refreshTile, tileOf, chosenPhotos } = window.PhotoListing;
  const bar = document.getElementById("batch-progress");
  const state = document.getElementById("batch-state");
  const button = document.getElementById("run-preset");
  const presets = document.getElementById("preset");
  const note = document.getElementById("preset-unavailable");
  const JOBS = panel.dataset.api;
  const followed = new Set();
  // The batch the summary line and bar speak of: the one the agent started last (other batches,
  // e.g. off-peak ones waiting since before a reload, still update their tiles).
  let current = null;

  // The presets this user may run (shipped, their own, their agencies'), from the API.
  fetch(presets.dataset.api, { credentials: "same-origin" })
    .then((response) => response.json())
    .then((list) => {
      const reasons = [];
      for (const preset of list) {
        const suffix = preset.scope === "system" ? "" : ` (${preset.scope})`;
        const option = new Option(preset.name + suffix, preset.id);
        if (preset.available === false) {
          option.disabled = true;
          option.text += " — " + t("unavailable");
          option.title = preset.unavailable_reason;
          reasons.push(preset.name + ": " + preset.unavailable_reason);
        }
        presets.add(option);
      }
      const first = [...presets.options].find((o) => !o.disabled);
      if (first) presets.value = first.value;
      if (reasons.length) { note.textContent = reasons.join(" "); note.hidden = false; }
    });

  function advice(code) {
    return t("advice_" + code) !== "advice_" + code ? t("advice_" + code) : t("job_failed_advice");
  }

  // What a job looks like on its photo's tile.
  function showJob(job) {
    const tile = tileOf(job.photo);
    if (!tile) return;
    const box = tile.querySelector(".job");
    const progress = box.querySelector("progress");
    const text = box.querySelector(".job-state");
    box.hidden = false;
    box.className = "job job-" + job.status;
    for (const stale of box.querySelectorAll(".retry-job")) stale.remove();
    progress.value = job.status === "succeeded" ? 100 : job.progress;
    progress.hidden = job.status === "failed" || job.status === "cancelled";
    if (job.status === "queued" && job.lane === "offpeak") {
      text.textContent = t("offpeak_waiting");
      box.classList.add("job-offpeak");
    } else if (job.status === "running") {
      text.textContent = t("running") + " " + job.progress + "%";
    } else if (job.status === "failed") {
      const error = job.error || {};
      text.textContent = t("failed") + " — " + (error.message || error.code || "") + " " + advice(error.code);
      if (!FINAL_ERRORS.has(error.code)) box.append(retryButton(job, tile));
    } else {
      text.textContent = t(job.status) + (job.status === "succeeded" ? " 100%" : "");
    }
  }

  // Errors a retry cannot fix: the advice says what to do instead.
  const FINAL_ERRORS = new Set(["provider_not_configured", "quota_exceeded"]);

  function retryButton(job, tile) {
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "secondary retry-job";
    retry.textContent = t("retry_job");
    retry.setAttribute("aria-label", t("retry_job_label", { preset: job.preset_name, name: tile.dataset.name }));
    retry.addEventListener("click", async () => {
      retry.disabled = true;
      const again = await api(JOBS + job.id + "/retry", "POST");
      if (!again.ok) {
        retry.disabled = false;
        tile.querySelector(".job-state").textContent = errorText(again.body, t("could_not_start", { status: again.status }));
        return;
      }
      retry.remove();
      showJob(again.body);
      current = again.body.batch.id || again.body.batch;
      follow(again.body.batch);
    });
    return retry;
  }

  async function jobsOf(query) {
    const jobs = [];
    let url = JOBS + "?page_size=200&" + query;
    while (url) {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) break;
      const page = await response.json();
      jobs.push(...page.results);
      url = page.next;
    }
    return jobs;
  }

  function summary(batch) {
    return t("batch_summary", { succeeded: batch.succeeded, running: batch.running, queued: batch.queued, failed: batch.failed }) +
      " — " + batch.progress + "%";
  }

  async function follow(batchId) {
    if (followed.has(batchId)) return;
    followed.add(batchId);
    const shown = new Map();
    for (;;) {
      let batch;
      let jobs;
      try {
        batch = await (await fetch(panel.dataset.batches + batchId + "/", { credentials: "same-origin" })).json();
        jobs = await jobsOf("batch=" + batchId);
      } catch (e) {
        await new Promise((resolve) => setTimeout(resolve, 3000));
        continue;
      }
      const waiting = jobs.filter((job) => job.status === "queued" && job.lane === "offpeak").length;
      if (current === null || current === batchId) {
        bar.hidden = false;
        bar.value = batch.progress;
        state.className = batch.failed ? "error" : "muted";
        state.textContent = summary(batch) + (waiting ? " · " + t("batch_offpeak", { count: waiting }) : "");
      }
      for (const job of jobs) {
        const before = shown.get(job.id);
        if (job.status === "succeeded" && before !== "succeeded") {
          await refreshTile(job.photo);
        }
        if (before !== job.status || job.status === "running" || before === undefined) showJob(job);
        shown.set(job.id, job.status);
      }
      if (batch.finished) { followed.delete(batchId); return batch; }
      await new Promise((resolve) => setTimeout(resolve, waiting === jobs.length ? 10000 : 1000));
    }
  }

  button.addEventListener("click", async () => {
    const photos = chosenPhotos();
    if (!photos.length) { state.className = "error"; state.textContent = t("no_photos"); return; }
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    state.className = "muted";
    state.textContent = t("starting");
    try {
      const started = await api(JOBS, "POST", {
        photos,
        preset: presets.value,
        lane: document.getElementById("lane").value,
        bracket: document.getElementById("bracket").checked,
      });
      if (!started.ok) {
        state.className = "error";
        state.textContent = errorText(started.body, t("could_not_start", { status: started.status }));
        return;
      }
      for (const job of started.body.jobs) showJob(job);
      button.disabled = false;
      current = started.body.batch.id;
      await follow(started.body.batch.id);
    } finally {
      button.disabled = false;
    }
  });

  // Jobs still queued or running for photos of this page (an off-peak batch, or one started
  // before a reload) stay on view and are followed.
  (async function resume() {
    const pending = [...(await jobsOf("status=queued")), ...(await jobsOf("status=running"))]
      .filter((job) => tileOf(job.photo));
    for (const job of pending) showJob(job);
    for (const batchId of new Set(pending.map((job) => job.batch))) follow(batchId);
  })();
})();
