// Presets page: the step builder (add, remove, reorder, live slider values) replaces the JSON
// field, and Preview runs the steps on one photo through POST /api/v1/presets/preview.
// Steps are cloned from the server-rendered <template>s (one per operation, built from its
// parameter schema, labels in the reader's language); the server validates on save.
(function () {
  "use strict";
  const form = document.getElementById("preset-form");
  const builder = document.getElementById("builder");
  if (!form || !builder) return;
  const steps = document.getElementById("steps");
  const noSteps = document.getElementById("no-steps");
  const fallback = document.getElementById("json-fallback");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const lang = document.documentElement.lang || undefined;
  const text = form.dataset;

  // The builder is sent instead of the JSON field (a disabled field is not submitted).
  builder.hidden = false;
  builder.disabled = false;
  fallback.hidden = true;
  fallback.querySelector("textarea").disabled = true;

  function localised(value) {
    return value === "" || isNaN(Number(value)) ? value : Number(value).toLocaleString(lang);
  }

  function renumber() {
    const items = [...steps.children];
    items.forEach((item, index) => {
      item.querySelector(".step-number").textContent = index + 1;
      for (const element of item.querySelectorAll("*")) {
        for (const attribute of ["name", "id", "for", "aria-describedby"]) {
          const value = element.getAttribute(attribute);
          if (value) element.setAttribute(attribute, value.replace(/(steps?-)(\d+|__i__)-/g, `$1${index}-`));
        }
      }
      item.querySelector(".move-up").disabled = index === 0;
      item.querySelector(".move-down").disabled = index === items.length - 1;
    });
    noSteps.hidden = items.length > 0;
  }

  function addStep(op) {
    const template = document.querySelector(`#step-templates template[data-op="${op}"]`);
    const item = template.content.firstElementChild.cloneNode(true);
    // The file format is always last and an HDR merge always first: keep that order.
    const encode = steps.querySelector(':scope > li[data-op="encode"]');
    if (op === "hdr_merge") steps.prepend(item);
    else if (encode && op !== "encode") steps.insertBefore(item, encode);
    else steps.append(item);
    renumber();
    item.querySelector("input:not([type=hidden]), select, button").focus();
  }

  document.getElementById("add-step").addEventListener("click", () => {
    addStep(document.getElementById("add-op").value);
  });

  steps.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const item = button.closest("li.step");
    if (button.classList.contains("remove")) {
      const next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      renumber();
      (next ? next.querySelector(".remove") : document.getElementById("add-op")).focus();
      return;
    }
    if (button.classList.contains("move-up") && item.previousElementSibling) {
      steps.insertBefore(item, item.previousElementSibling);
    } else if (button.classList.contains("move-down") && item.nextElementSibling) {
      steps.insertBefore(item.nextElementSibling, item);
    } else {
      return;
    }
    renumber();
    const same = item.querySelector(button.classList.contains("move-up") ? ".move-up" : ".move-down");
    (same.disabled ? item.querySelector(".remove") : same).focus();
  });

  // Sliders show their value as it moves; a changed field loses its old error.
  steps.addEventListener("input", (event) => {
    const param = event.target.closest(".param");
    if (!param) return;
    if (event.target.type === "range") {
      param.querySelector("output").textContent = localised(event.target.value);
    }
    param.classList.remove("invalid");
    event.target.removeAttribute("aria-invalid");
    for (const message of param.querySelectorAll(".field-error")) message.remove();
  });
  for (const output of steps.querySelectorAll("output")) output.textContent = localised(output.textContent.trim());
  renumber();
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  for (const remove of document.querySelectorAll("form.delete-preset")) {
    remove.addEventListener("submit", (event) => {
      if (!window.confirm(remove.dataset.confirm)) event.preventDefault();
    });
  }

  // --- Preview ---------------------------------------------------------------------------------

  function operations() {
    return [...steps.children].map((item) => {
      const params = {};
      for (const param of item.querySelectorAll(".param")) {
        const name = param.dataset.param;
        const input = param.querySelector("input, select");
        const raw = input.value.trim();
        if (input.type === "checkbox") {
          params[name] = input.checked;
        } else if (input.type === "range" || input.type === "number") {
          if (raw !== "") params[name] = Number(raw.replace(",", "."));
          else if (input.placeholder) params[name] = null;
        } else if (param.classList.contains("param-list")) {
          try { params[name] = raw ? JSON.parse(raw) : []; } catch { params[name] = raw; }
        } else {
          params[name] = input.value;
        }
      }
      return { op: item.dataset.op, params };
    });
  }

  function showFieldError(item, paramName, message) {
    const param = paramName && item.querySelector(`.param[data-param="${paramName}"]`);
    const target = param || item.querySelector(".params");
    const line = document.createElement("p");
    line.className = "error field-error";
    line.textContent = message;
    if (param) {
      param.classList.add("invalid");
      const input = param.querySelector("input, select");
      line.id = `${input.id}-error`;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby") || ""} ${line.id}`.trim());
      param.append(line);
    } else {
      target.before(line);
    }
  }

  // The browser checks number ranges itself (in the reader's language) before asking the server.
  function checkedLocally() {
    let valid = true;
    for (const input of steps.querySelectorAll("input[type=number]")) {
      if (!input.checkValidity()) {
        showFieldError(input.closest("li.step"), input.closest(".param").dataset.param, input.validationMessage);
        valid = false;
      }
    }
    return valid;
  }

  const previewButton = document.getElementById("preview-button");
  if (!previewButton) return;
  const status = document.getElementById("preview-status");
  const result = document.getElementById("preview-result");
  const before = document.getElementById("preview-before");
  const after = document.getElementById("preview-after");

  previewButton.addEventListener("click", async () => {
    for (const message of steps.querySelectorAll(".field-error, .step-error")) message.remove();
    for (const param of steps.querySelectorAll(".param.invalid")) param.classList.remove("invalid");
    const list = operations();
    status.className = "error";
    if (!list.length) { status.textContent = text.textEmpty; return; }
    if (!checkedLocally()) { status.textContent = text.textFailed; return; }
    const photo = document.getElementById("preview-photo").value;
    previewButton.disabled = true;
    status.className = "muted";
    status.textContent = text.textRunning;
    try {
      const [response, original] = await Promise.all([
        fetch(text.previewUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
          body: JSON.stringify({ photo, operations: list }),
        }),
        fetch(`${text.photosUrl}${photo}/`, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)),
      ]);
      if (!response.ok) {
        const body = await response.json().catch(() => null);
        const error = body && body.error;
        status.className = "error";
        status.textContent = (error && error.message) || text.textFailed;
        for (const [key, detail] of Object.entries((error && error.details) || {})) {
          const item = /^\d+$/.test(key) && steps.children[Number(key)];
          if (!item) { status.textContent += ` ${detail}`; continue; }
          if (detail.params && typeof detail.params === "object") {
            for (const [name, message] of Object.entries(detail.params)) showFieldError(item, name, message);
          } else {
            showFieldError(item, "", detail.op || detail.params);
          }
        }
        return;
      }
      if (after.src.startsWith("blob:")) URL.revokeObjectURL(after.src);
      after.src = URL.createObjectURL(await response.blob());
      before.src = original && original.urls ? original.urls.preview || "" : "";
      result.hidden = false;
      const skipped = [...steps.children]
        .filter((item) => item.dataset.kind === "ai" || item.dataset.op === "hdr_merge")
        .map((item) => item.dataset.label);
      status.className = "";
      status.textContent = text.textDone + (skipped.length ? ` ${text.textSkipped} ${skipped.join(", ")}.` : "");
    } catch {
      status.className = "error";
      status.textContent = text.textFailed;
    } finally {
      previewButton.disabled = false;
    }
  });
})();
