// pyxl task pane: buttons from the registry (pyxl.excel.buttons.BUTTONS), the contact form,
// progress while a script runs, a script's preview to confirm and its file to download
// (the pyxlPreview and pyxlOffer callbacks), and the access code used to sign in.
const buttons = JSON.parse(document.getElementById("pyxl-buttons").textContent);
const CODE_KEY = "pyxl-access-code";

function localDate() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function show(id, visible) {
  document.getElementById(id).classList.toggle("d-none", !visible);
}

function errorShown() {
  const alert = document.getElementById("global-error-alert");
  return alert !== null && !alert.classList.contains("d-none");
}

async function signIn() {
  return typeof globalThis.getAuth === "function"
    ? await globalThis.getAuth()
    : { token: "", provider: "" };
}

// Runs a button's script; fixed arguments may say {today} for the user's local date.
async function run(button, extraArgs = []) {
  const args = [...button.args.map((a) => (a === "{today}" ? localDate() : a)), ...extraArgs];
  const auth = await signIn();
  const started = Date.now();
  const text = document.getElementById("pyxl-progress-text");
  const tick = () => {
    const seconds = Math.round((Date.now() - started) / 1000);
    text.textContent = `${button.label}: ${button.working}... ${seconds} s`;
  };
  tick();
  const timer = setInterval(tick, 1000);
  show("pyxl-progress", true);
  document.getElementById("pyxl-result").textContent = "";
  document.querySelectorAll("#pyxl-buttons-list button").forEach((b) => (b.disabled = true));
  try {
    await globalThis.xlwings.runPython({
      scriptName: button.script,
      args: args,
      auth: auth.token,
      headers: { "Auth-Provider": auth.provider },
      errorDisplayMode: "taskpane",
    });
  } finally {
    clearInterval(timer);
    show("pyxl-progress", false);
    document.querySelectorAll("#pyxl-buttons-list button").forEach((b) => (b.disabled = false));
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const done = button.pane ? `ready below (${seconds} s)` : `done in ${seconds} s`;
  document.getElementById("pyxl-result").textContent = errorShown()
    ? `${button.label}: not done (see the message above).`
    : `${button.label}: ${done}.`;
}

function fillList(id, items) {
  const list = document.getElementById(id);
  list.replaceChildren(
    ...items.map((item) => {
      const li = document.createElement("li");
      li.textContent = item; // client text is shown as text, never as HTML
      return li;
    }),
  );
}

function cells(tag, values) {
  const row = document.createElement("tr");
  row.replaceChildren(
    ...values.map((value) => {
      const cell = document.createElement(tag);
      cell.textContent = String(value ?? "");
      return cell;
    }),
  );
  return row;
}

// A script's preview: a table to check and the call that does the work once confirmed.
function pyxlPreview(context, payload) {
  const preview = JSON.parse(payload);
  document.getElementById("pyxl-preview-title").textContent = preview.title;
  document.getElementById("pyxl-preview-head").replaceChildren(cells("th", preview.headers));
  document
    .getElementById("pyxl-preview-rows")
    .replaceChildren(...preview.rows.map((row) => cells("td", row)));
  fillList(
    "pyxl-preview-problems",
    preview.problems.map((p) => `Will not be made: ${p}`),
  );
  const confirm = document.getElementById("pyxl-preview-confirm");
  show(confirm.id, preview.confirm !== null);
  if (preview.confirm !== null) {
    confirm.textContent = preview.confirm.label;
    confirm.onclick = async () => {
      show("pyxl-preview", false);
      await run({ ...preview.confirm, id: confirm.id, pane: true });
    };
  }
  show("pyxl-download-box", false);
  show("pyxl-preview", true);
}

// A file a script made, kept on the server for one download (pyxl.excel.downloads).
function pyxlOffer(context, payload) {
  const offer = JSON.parse(payload);
  document.getElementById("pyxl-download-summary").textContent = offer.summary;
  fillList(
    "pyxl-download-problems",
    offer.problems.map((p) => `Not made: ${p}`),
  );
  const button = document.getElementById("pyxl-download");
  show(button.id, Boolean(offer.id));
  if (offer.id) {
    button.disabled = false;
    button.textContent = `Download ${offer.filename}`;
    button.onclick = () => download(offer, button);
  }
  show("pyxl-download-box", true);
}

async function download(offer, button) {
  const auth = await signIn();
  const base = (globalThis.config && globalThis.config.appPath) || "";
  const response = await fetch(`${base}/pyxl/download/${encodeURIComponent(offer.id)}`, {
    headers: { Authorization: auth.token, "Auth-Provider": auth.provider },
  });
  const result = document.getElementById("pyxl-result");
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    result.textContent = body.detail || `Download refused (${response.status}).`;
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = offer.filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  button.disabled = true; // served once: the server has forgotten it
  button.textContent = `Downloaded ${offer.filename}`;
  result.textContent = `${offer.filename} downloaded.`;
}

function formArgs(form, button) {
  const names = button.form_fields;
  const data = new FormData(form);
  return names.map((name) => String(data.get(name) ?? ""));
}

function init() {
  const code = document.getElementById("pyxl-access-code");
  code.value = localStorage.getItem(CODE_KEY) || "";
  document
    .getElementById("pyxl-preview-cancel")
    .addEventListener("click", () => show("pyxl-preview", false));
  document.getElementById("pyxl-save-code").addEventListener("click", () => {
    localStorage.setItem(CODE_KEY, code.value.trim());
    document.getElementById("pyxl-result").textContent = "Access code saved.";
  });
  for (const button of buttons) {
    const element = document.getElementById(button.id);
    element.addEventListener("click", async () => {
      if (button.form) {
        const form = document.getElementById(`pyxl-form-${button.form}`);
        const day = form.querySelector("input[type=date]");
        if (day && !day.value) day.value = localDate();
        show(form.id, true);
        return;
      }
      await run(button);
    });
    if (button.form) {
      const form = document.getElementById(`pyxl-form-${button.form}`);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        await run(button, formArgs(form, button));
        if (!errorShown()) {
          form.reset();
          show(form.id, false);
        }
      });
      form.querySelector("[data-close-form]").addEventListener("click", () => show(form.id, false));
    }
  }
}

globalThis.xlwings.registerCallback(pyxlPreview);
globalThis.xlwings.registerCallback(pyxlOffer);
globalThis.pyxl = { buttons, run };
init();
