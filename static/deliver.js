// Project page: a portal export of the selected photos (or all) with progress and its download
// link; share links of a selection, listed with their views and expiry, revocable.
(function () {
  "use strict";
  const panel = document.getElementById("deliver");
  if (!panel || !window.PhotoListing) return;
  const { t, api, errorText, chosenPhotos } = window.PhotoListing;
  const project = panel.dataset.project;
  const portals = document.getElementById("portal");
  const linkList = document.getElementById("share-links");
  const selection = document.getElementById("selection-state");

  // Each portal's rules come from the API, so the page never drifts from what exports check.
  fetch(portals.dataset.api, { credentials: "same-origin" })
    .then((response) => response.json())
    .then((profiles) => {
      for (const p of profiles) {
        portals.add(new Option(`${p.name} (≤ ${p.max_photos} photos, ${p.max_width}×${p.max_height})`, p.code));
      }
    });

  // A plan without exports shows the button disabled with the reason, never a refusal later.
  fetch("/api/v1/entitlements/?project=" + encodeURIComponent(project), { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((entitlements) => {
      const exportsFeature = entitlements && entitlements.features.exports;
      if (!exportsFeature || exportsFeature.allowed) return;
      const button = document.getElementById("export");
      button.disabled = true;
      portals.disabled = true;
      const note = document.getElementById("export-unavailable");
      note.textContent = exportsFeature.reason + " ";
      const upgrade = document.createElement("a");
      upgrade.href = "/billing/";
      upgrade.textContent = t("see_plans");
      note.appendChild(upgrade);
      note.hidden = false;
    });

  // Exports and shares take the ticked photos; none ticked: the server's default selection.
  function selected() { return chosenPhotos({ fallbackToAll: false }); }

  function showSelection() {
    const count = selected().length;
    selection.textContent = count ? t("selection_some", { count }) : t("selection_all");
  }
  document.addEventListener("photolisting:photos-changed", showSelection);
  showSelection();

  document.getElementById("export").addEventListener("click", async () => {
    const state = document.getElementById("export-state");
    const bar = document.getElementById("export-progress");
    state.className = "muted";
    state.textContent = t("checking_rules");
    const body = { project, profile: portals.value };
    const photos = selected();
    if (photos.length) body.photos = photos;
    const started = await api("/api/v1/exports/", "POST", body);
    if (!started.ok) { state.className = "error"; state.textContent = errorText(started.body, String(started.status)); return; }
    bar.hidden = false;
    bar.value = 0;
    for (;;) {
      const exported = await (await fetch("/api/v1/exports/" + started.body.id + "/", { credentials: "same-origin" })).json();
      bar.value = exported.progress;
      if (exported.status === "succeeded") {
        state.className = "";
        state.innerHTML = "";
        const link = document.createElement("a");
        link.href = exported.url;
        link.textContent = t("download", { name: exported.file_name });
        state.appendChild(link);
        // Photos the portal gets smaller than it asks: sent anyway, but the agent should know.
        for (const warning of Object.values(exported.warnings || {})) {
          const line = document.createElement("span");
          line.className = "muted note";
          line.textContent = " " + warning;
          state.appendChild(line);
        }
        return;
      }
      if (exported.status === "failed") { state.className = "error"; state.textContent = exported.error; return; }
      state.textContent = exported.progress + "%";
      await new Promise((resolve) => setTimeout(resolve, 800));
    }
  });

  function when(iso) {
    return new Date(iso).toLocaleDateString(document.documentElement.lang || undefined, { day: "numeric", month: "short", year: "numeric" });
  }

  async function loadLinks() {
    const response = await fetch(panel.dataset.shareApi, { credentials: "same-origin" });
    if (!response.ok) return;
    const links = await response.json();
    linkList.innerHTML = "";
    if (!links.length) {
      const empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = t("share_none");
      linkList.append(empty);
    }
    for (const link of links) {
      const li = document.createElement("li");
      li.dataset.link = link.id;
      const anchor = document.createElement("a");
      anchor.href = link.url;
      anchor.textContent = link.url;
      anchor.className = "share-url";
      const expired = new Date(link.expires_at) <= new Date();
      const facts = document.createElement("span");
      facts.className = "muted";
      facts.textContent = " · " + [
        link.photos.length ? t("share_photos", { count: link.photos.length }) : t("share_all"),
        t("share_views", { count: link.view_count }),
        link.revoked ? t("share_revoked") : expired ? t("share_expired") : t("share_expires", { date: when(link.expires_at) }),
      ].join(" · ");
      li.append(anchor, facts);
      if (!link.revoked && !expired) {
        const revoke = document.createElement("button");
        revoke.type = "button";
        revoke.className = "secondary revoke";
        revoke.textContent = t("revoke");
        revoke.setAttribute("aria-label", t("revoke_label", { url: link.url }));
        revoke.addEventListener("click", async () => {
          const revoked = await api("/api/v1/share-links/" + link.id + "/revoke", "POST");
          const state = document.getElementById("share-state");
          state.className = revoked.ok ? "" : "error";
          state.textContent = revoked.ok ? t("revoked") : errorText(revoked.body, String(revoked.status));
          await loadLinks();
        });
        li.append(" ", revoke);
      } else {
        li.classList.add("inactive");
      }
      linkList.append(li);
    }
  }
  loadLinks();

  document.getElementById("share").addEventListener("click", async () => {
    const state = document.getElementById("share-state");
    const body = {
      allow_download: document.getElementById("share-download").checked,
      password: document.getElementById("share-password").value,
    };
    const photos = selected();
    if (photos.length) body.photos = photos;
    const shared = await api("/api/v1/projects/" + project + "/share-links/", "POST", body);
    if (!shared.ok) { state.className = "error"; state.textContent = errorText(shared.body, String(shared.status)); return; }
    state.className = "";
    state.innerHTML = "";
    const link = document.createElement("a");
    link.href = shared.body.url;
    link.id = "share-url";
    link.textContent = shared.body.url;
    state.appendChild(link);
    await loadLinks();
  });
})();
