// Browser upload for the project page: several files at once, a progress bar per file, then the
// photo's tile appears when ingest has finished (polled through the same API the apps use).
(function () {
  "use strict";
  const zone = document.getElementById("upload");
  if (!zone) return;
  const input = document.getElementById("file-input");
  const list = document.getElementById("upload-list");
  const grid = document.getElementById("photo-grid");
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const api = zone.dataset.api;
  const PARALLEL = 3;
  const queue = [];
  let running = 0;

  function row(file) {
    const li = document.createElement("li");
    li.innerHTML = '<span class="name"></span><progress max="100" value="0"></progress><span class="state">Waiting…</span>';
    li.querySelector(".name").textContent = file.name;
    list.appendChild(li);
    return li;
  }

  function enqueue(files) {
    for (const file of files) queue.push({ file, li: row(file) });
    pump();
  }

  function pump() {
    while (running < PARALLEL && queue.length) {
      running += 1;
      upload(queue.shift()).finally(() => { running -= 1; pump(); });
    }
  }

  function upload({ file, li }) {
    const bar = li.querySelector("progress");
    const state = li.querySelector(".state");
    return new Promise((resolve) => {
      const form = new FormData();
      form.append("project", zone.dataset.project);
      form.append("file", file);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", api);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Idempotency-Key", crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
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
          state.textContent = "Processing…";
          follow(body.id, li).then(resolve);
        } else {
          state.textContent = (body.error && body.error.message) || "Upload failed (" + xhr.status + ")";
          state.className = "state error";
          resolve();
        }
      };
      xhr.onerror = () => { state.textContent = "Network error"; state.className = "state error"; resolve(); };
      xhr.send(form);
    });
  }

  async function follow(photoId, li) {
    const state = li.querySelector(".state");
    for (let attempt = 0; attempt < 120; attempt += 1) {
      const response = await fetch(api + photoId + "/", { credentials: "same-origin" });
      const photo = await response.json();
      if (photo.status === "ready" || photo.status === "rejected" || photo.status === "failed") {
        state.textContent = photo.status === "ready" ? "Ready" : LABELS[photo.status] + ": " + problem(photo).message;
        state.className = "state " + (photo.status === "ready" ? "status-ready" : "error");
        grid.prepend(tile(photo));
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(500 + attempt * 250, 3000)));
    }
    state.textContent = "Still processing — refresh later";
  }

  function tile(photo) {
    const li = document.createElement("li");
    li.className = "tile";
    li.dataset.photo = photo.id;
    li.dataset.status = photo.status;
    const frame = document.createElement("div");
    frame.className = "frame";
    if (photo.urls.thumbnail) {
      const link = document.createElement("a");
      link.href = photo.urls.preview;
      link.target = "_blank";
      const img = document.createElement("img");
      img.src = photo.urls.thumbnail;
      img.alt = photo.original_filename;
      link.appendChild(img);
      frame.appendChild(link);
    } else {
      const span = document.createElement("span");
      span.className = "status-" + photo.status;
      span.textContent = LABELS[photo.status] + ": " + problem(photo).message;
      frame.appendChild(span);
    }
    const caption = document.createElement("div");
    caption.className = "caption";
    const name = document.createElement("span");
    name.textContent = photo.original_filename;
    const status = document.createElement("span");
    status.className = "status-" + photo.status;
    status.textContent = LABELS[photo.status];
    caption.append(name, status);
    li.append(frame, caption);
    if (photo.status !== "ready") li.append(actions(photo));
    return li;
  }

  const LABELS = { ready: "Ready", rejected: "Rejected", failed: "Failed" };

  function problem(photo) {
    return photo.rejection || photo.failure || { message: "" };
  }

  // The same retry and delete forms the server renders on a tile that is not ready.
  function actions(photo) {
    const box = document.createElement("div");
    box.className = "tile-actions";
    for (const [action, label] of [["retry", "Try again"], ["delete", "Delete"]]) {
      const form = document.createElement("form");
      form.method = "post";
      form.action = "/projects/" + photo.project + "/photos/" + photo.id + "/" + action;
      const token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrfmiddlewaretoken";
      token.value = csrf;
      const button = document.createElement("button");
      button.type = "submit";
      button.className = "secondary";
      button.textContent = label;
      form.append(token, button);
      box.append(form);
    }
    return box;
  }

  input.addEventListener("change", () => { enqueue(input.files); input.value = ""; });
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    enqueue(event.dataTransfer.files);
  });
})();
