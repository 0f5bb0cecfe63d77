// Browser upload for the project page: several files at once, a progress bar per file, then the
// photo's tile appears — selectable at once — when ingest has finished (polled through the same
// API the apps use). The file input is a visible, focusable "Choose photos" control.
(function () {
  "use strict";
  const zone = document.getElementById("upload");
  if (!zone || !window.PhotoListing) return;
  const { t, csrf, refreshTile } = window.PhotoListing;
  const input = document.getElementById("file-input");
  const list = document.getElementById("upload-list");
  const api = zone.dataset.api;
  const PARALLEL = 3;
  const queue = [];
  let running = 0;

  function row(file) {
    const li = document.createElement("li");
    li.innerHTML = '<span class="name"></span><progress max="100" value="0"></progress><span class="state" role="status"></span>';
    li.querySelector(".name").textContent = file.name;
    li.querySelector("progress").setAttribute("aria-label", t("upload_progress", { name: file.name }));
    li.querySelector(".state").textContent = t("waiting");
    list.appendChild(li);
    return li;
  }

  function enqueue(files) {
    // One Idempotency-Key per file, kept across retries: a retry after a cut connection that
    // the server did receive returns the same photo instead of a copy.
    for (const file of files) queue.push({ file, li: row(file), key: newKey() });
    pump();
  }

  function newKey() {
    return crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
  }

  // A transfer that failed on the way (network, server busy) can be sent again; a file the
  // server refused (wrong format, too large) cannot, and says why instead.
  function offerRetry(item) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary retry-upload";
    button.textContent = t("retry_upload");
    button.setAttribute("aria-label", t("retry_upload_label", { name: item.file.name }));
    button.addEventListener("click", () => {
      button.remove();
      item.li.querySelector(".state").className = "state";
      item.li.querySelector(".state").textContent = t("waiting");
      queue.push(item);
      pump();
    });
    item.li.appendChild(button);
    button.focus();
  }

  function pump() {
    while (running < PARALLEL && queue.length) {
      running += 1;
      upload(queue.shift()).finally(() => { running -= 1; pump(); });
    }
  }

  function upload(item) {
    const { file, li, key } = item;
    const bar = li.querySelector("progress");
    const state = li.querySelector(".state");
    return new Promise((resolve) => {
      const form = new FormData();
      form.append("project", zone.dataset.project);
      form.append("file", file);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", api);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Idempotency-Key", key);
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) {
          bar.value = Math.round((event.loaded / event.total) * 100);
          state.textContent = bar.value + "%";
        }
      };
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON: reported below */ }
        if (xhr.status === 200 || xhr.status === 201) {
          bar.value = 100;
          state.textContent = t("processing");
          follow(body.id, li).then(resolve);
        } else {
          state.textContent = (body.error && body.error.message) || t("upload_failed", { status: xhr.status });
          state.className = "state error";
          if (xhr.status >= 500 || xhr.status === 429 || xhr.status === 0) offerRetry(item);
          resolve();
        }
      };
      xhr.onerror = () => {
        state.textContent = t("network_error");
        state.className = "state error";
        offerRetry(item);
        resolve();
      };
      xhr.send(form);
    });
  }

  async function follow(photoId, li) {
    const state = li.querySelector(".state");
    for (let attempt = 0; attempt < 120; attempt += 1) {
      let photo = {};
      try {
        const response = await fetch(api + photoId + "/", { credentials: "same-origin" });
        photo = await response.json();
      } catch (e) { /* a dropped poll: try again below */ }
      if (photo.status === "ready" || photo.status === "rejected" || photo.status === "failed") {
        const problem = photo.rejection || photo.failure;
        state.textContent = photo.status === "ready"
          ? t("ready") + (photo.duplicate_of ? " · " + t("duplicate") : "")
          : t(photo.status) + ": " + (problem ? problem.message : "");
        state.className = "state " + (photo.status === "ready" ? "status-ready" : "error");
        await refreshTile(photo.id);
        document.dispatchEvent(new CustomEvent("photolisting:photos-changed"));
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(500 + attempt * 250, 3000)));
    }
    state.textContent = t("still_processing");
  }

  input.addEventListener("change", () => { enqueue(input.files); input.value = ""; });
  zone.addEventListener("dragover", (event) => {
    if (!event.dataTransfer || ![...event.dataTransfer.types].includes("Files")) return;
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    enqueue(event.dataTransfer.files);
  });
})();
