// Project page: a portal export with progress and its download link, and a share link to copy.
(function () {
  "use strict";
  const panel = document.getElementById("deliver");
  if (!panel) return;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const project = panel.dataset.project;
  const portals = document.getElementById("portal");

  // Each portal's rules come from the API, so the page never drifts from what exports check.
  fetch(portals.dataset.api, { credentials: "same-origin" })
    .then((response) => response.json())
    .then((profiles) => {
      for (const p of profiles) {
        portals.add(new Option(`${p.name} (≤ ${p.max_photos} photos, ${p.max_width}×${p.max_height})`, p.code));
      }
    });

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    return { ok: response.ok, body: await response.json() };
  }

  function describe(error) {
    const details = Object.values(error.details || {}).join("; ");
    return error.message + (details ? " " + details : "");
  }

  document.getElementById("export").addEventListener("click", async () => {
    const state = document.getElementById("export-state");
    const bar = document.getElementById("export-progress");
    state.className = "muted";
    state.textContent = "Checking the portal's rules…";
    const started = await post("/api/v1/exports/", { project, profile: document.getElementById("portal").value });
    if (!started.ok) { state.className = "error"; state.textContent = describe(started.body.error); return; }
    bar.hidden = false;
    for (;;) {
      const exported = await (await fetch("/api/v1/exports/" + started.body.id + "/", { credentials: "same-origin" })).json();
      bar.value = exported.progress;
      if (exported.status === "succeeded") {
        state.innerHTML = "";
        const link = document.createElement("a");
        link.href = exported.url;
        link.textContent = "Download " + exported.file_name;
        state.appendChild(link);
        return;
      }
      if (exported.status === "failed") { state.className = "error"; state.textContent = exported.error; return; }
      state.textContent = exported.progress + "%";
      await new Promise((resolve) => setTimeout(resolve, 800));
    }
  });

  document.getElementById("share").addEventListener("click", async () => {
    const state = document.getElementById("share-state");
    const shared = await post("/api/v1/projects/" + project + "/share-links/", {
      allow_download: document.getElementById("share-download").checked,
      password: document.getElementById("share-password").value,
    });
    if (!shared.ok) { state.className = "error"; state.textContent = describe(shared.body.error); return; }
    state.className = "";
    state.innerHTML = "";
    const link = document.createElement("a");
    link.href = shared.body.url;
    link.id = "share-url";
    link.textContent = shared.body.url;
    state.appendChild(link);
  });
})();
