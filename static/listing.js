// Project page: the listing itself — tiles refreshed in place, delete, reorder (drag and drop or
// the ← → buttons), room labels and the duplicates toggle. Shared helpers for the other scripts
// of the page live on window.PhotoListing.
(function () {
  "use strict";
  const grid = document.getElementById("photo-grid");
  if (!grid) return;
  const strings = JSON.parse(document.getElementById("page-strings").textContent);
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const listingState = document.getElementById("listing-state");

  function t(key, values) {
    let text = strings[key] || key;
    for (const [name, value] of Object.entries(values || {})) text = text.split("%(" + name + ")s").join(value);
    return text;
  }

  async function api(url, method, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = {};
    if (response.status !== 204) { try { data = await response.json(); } catch (e) { data = {}; } }
    return { ok: response.ok, status: response.status, body: data };
  }

  function errorText(body, fallback) {
    const error = body && body.error;
    if (!error) return fallback;
    const details = Object.values(error.details || {}).filter((v) => typeof v === "string").join("; ");
    return error.message + (details ? " " + details : "");
  }

  function tileOf(photoId) { return grid.querySelector('li.tile[data-photo="' + photoId + '"]'); }

  // The server renders the tile (one template for the page and the scripts); a checked box stays checked.
  async function refreshTile(photoId) {
    const response = await fetch(grid.dataset.tileUrl + photoId + "/tile", { credentials: "same-origin" });
    if (!response.ok) return null;
    const holder = document.createElement("ul");
    holder.innerHTML = (await response.text()).trim();
    const fresh = holder.firstElementChild;
    const old = tileOf(photoId);
    if (old) {
      const picked = old.querySelector(".pick:checked");
      if (picked && fresh.querySelector(".pick")) fresh.querySelector(".pick").checked = true;
      old.replaceWith(fresh);
    } else {
      grid.append(fresh);
    }
    return fresh;
  }

  function say(text, isError) {
    listingState.textContent = text;
    listingState.className = isError ? "error" : "muted";
  }

  // --- Order ---------------------------------------------------------------------------------
  async function saveOrder() {
    const photos = [...grid.querySelectorAll("li.tile")].map((li) => li.dataset.photo);
    const saved = await api(grid.dataset.orderApi, "POST", { photos });
    if (!saved.ok) say(errorText(saved.body, t("order_failed")), true);
    return saved.ok;
  }

  function visibleTiles() {
    return [...grid.querySelectorAll("li.tile")].filter((li) => li.offsetParent !== null);
  }

  async function move(tile, step) {
    const tiles = visibleTiles();
    const index = tiles.indexOf(tile);
    const target = tiles[index + step];
    if (!target) return;
    if (step < 0) target.before(tile); else target.after(tile);
    tile.querySelector('.move[data-move="' + step + '"]').focus();
    if (await saveOrder()) {
      say(t("moved", { name: tile.dataset.name, position: visibleTiles().indexOf(tile) + 1 }));
    }
  }

  let dragged = null;
  grid.addEventListener("dragstart", (event) => {
    const tile = event.target.closest && event.target.closest("li.tile");
    if (!tile) return;
    dragged = tile;
    tile.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", tile.dataset.photo);
  });
  grid.addEventListener("dragover", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const over = event.target.closest("li.tile");
    if (!over || over === dragged) return;
    const box = over.getBoundingClientRect();
    const after = event.clientX > box.left + box.width / 2;
    if (after) over.after(dragged); else over.before(dragged);
  });
  grid.addEventListener("drop", async (event) => {
    if (!dragged) return;
    event.preventDefault();
    const tile = dragged;
    tile.classList.remove("dragging");
    dragged = null;
    if (await saveOrder()) say(t("moved", { name: tile.dataset.name, position: visibleTiles().indexOf(tile) + 1 }));
  });
  grid.addEventListener("dragend", () => { if (dragged) { dragged.classList.remove("dragging"); dragged = null; saveOrder(); } });

  // --- Buttons, delete, room labels ----------------------------------------------------------
  grid.addEventListener("click", (event) => {
    const button = event.target.closest("button.move");
    if (button) move(button.closest("li.tile"), Number(button.dataset.move));
  });

  grid.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.classList.contains("delete")) return;
    event.preventDefault();
    const tile = form.closest("li.tile");
    if (!window.confirm(t("confirm_delete", { name: tile.dataset.name }))) return;
    const deleted = await api(form.dataset.api, "DELETE");
    if (!deleted.ok) { say(errorText(deleted.body, t("delete_failed")), true); return; }
    const next = tile.nextElementSibling || tile.previousElementSibling;
    tile.remove();
    say(t("deleted"));
    const focusable = next && next.querySelector("button, input");
    if (focusable) focusable.focus();
    document.dispatchEvent(new CustomEvent("photolisting:photos-changed"));
  });

  grid.addEventListener("change", async (event) => {
    const input = event.target;
    if (input.classList.contains("room-label")) {
      const saved = await api(input.dataset.api, "PATCH", { room_label: input.value });
      input.classList.toggle("invalid", !saved.ok);
      input.setAttribute("aria-invalid", saved.ok ? "false" : "true");
      say(saved.ok ? t("room_saved") : errorText(saved.body, t("order_failed")), !saved.ok);
      if (saved.ok) input.value = saved.body.room_label;
    }
    if (input.classList.contains("pick")) document.dispatchEvent(new CustomEvent("photolisting:photos-changed"));
  });

  const toggle = document.getElementById("show-duplicates");
  if (toggle) toggle.addEventListener("change", () => grid.classList.toggle("show-duplicates", toggle.checked));

  // The photos an action applies to: the ticked ones, else every ready one on show; page order.
  function chosenPhotos({ fallbackToAll = true } = {}) {
    const picked = [...grid.querySelectorAll(".pick:checked")].map((box) => box.value);
    if (picked.length || !fallbackToAll) return picked;
    return [...grid.querySelectorAll("li.tile")]
      .filter((li) => li.offsetParent !== null)
      .map((li) => li.querySelector(".pick"))
      .filter(Boolean)
      .map((box) => box.value);
  }

  window.PhotoListing = { strings, csrf, t, api, errorText, refreshTile, tileOf, chosenPhotos };
})();
