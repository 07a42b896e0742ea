// pyxl task pane: buttons from the registry (pyxl.excel.buttons.BUTTONS), the contact form,
// progress while a script runs, and the access code used to sign in.
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

// Runs a button's script; fixed arguments may say {today} for the user's local date.
async function run(button, extraArgs = []) {
  const args = [...button.args.map((a) => (a === "{today}" ? localDate() : a)), ...extraArgs];
  const auth =
    typeof globalThis.getAuth === "function"
      ? await globalThis.getAuth()
      : { token: "", provider: "" };
  const started = Date.now();
  const text = document.getElementById("pyxl-progress-text");
  const tick = () => {
    const seconds = Math.round((Date.now() - started) / 1000);
    text.textContent = `${button.label}: reading the workbook, computing, writing... ${seconds} s`;
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
  document.getElementById("pyxl-result").textContent = errorShown()
    ? `${button.label}: not done (see the message above).`
    : `${button.label}: done in ${seconds} s.`;
}

function formArgs(form, button) {
  const names = button.form_fields;
  const data = new FormData(form);
  return names.map((name) => String(data.get(name) ?? ""));
}

function init() {
  const code = document.getElementById("pyxl-access-code");
  code.value = localStorage.getItem(CODE_KEY) || "";
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

globalThis.pyxl = { buttons, run };
init();
