// pyxl task pane: buttons from the registry (pyxl.excel.buttons.BUTTONS), the contact form,
// progress while a script runs, a script's preview to confirm and its file to download
// (the pyxlPreview and pyxlOffer callbacks), and the access code used to sign in.
// A button that declares what it reads gets only those sheets and columns, read in row
// blocks and posted in pieces under the request limit (pyxl.excel.uploads); writes that
// do not fit in one response come back page by page (the pyxlMore callback).
const buttons = JSON.parse(document.getElementById("pyxl-buttons").textContent);
const REQUEST_LIMIT = JSON.parse(document.getElementById("pyxl-request-limit").textContent);
const CODE_KEY = "pyxl-access-code";
const HEADER_SCAN = 12; // headers are in the first rows (pyxl.adapters.validation)
const CELLS_PER_READ = 20000; // one Office.js read: well under its 5 MB response limit
const PROGRESS_MS = 500; // how often the pane asks the server which step a script is at
let pendingWrites = null; // set by pyxlMore: {key, pages}

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

function showError(message) {
  const alert = document.getElementById("global-error-alert");
  if (alert === null) return;
  alert.classList.remove("d-none");
  alert.querySelector("span").textContent = message;
}

async function post(path, auth, body) {
  const base = (globalThis.config && globalThis.config.appPath) || "";
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: {
      Authorization: auth.token,
      "Auth-Provider": auth.provider,
      "Content-Type": "application/json",
    },
    body: body,
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.detail || `the server refused (${response.status})`);
  return answer;
}

// The header row among the first rows: the one holding most of the wanted headers.
function headerRow(rows, wanted) {
  let best = { row: -1, columns: [] };
  rows.forEach((row, r) => {
    const columns = row
      .map((v, c) => (typeof v === "string" && wanted.has(v.trim()) ? c : -1))
      .filter((c) => c >= 0);
    if (columns.length > best.columns.length) best = { row: r, columns: columns };
  });
  return best;
}

// The Case IDs on the selected rows of the active sheet (read there, sent as text).
async function selectedCases(context) {
  const sheet = context.workbook.worksheets.getActiveWorksheet();
  const areas = context.workbook.getSelectedRanges();
  areas.areas.load("items/rowIndex,items/rowCount");
  const top = sheet.getRangeByIndexes(0, 0, HEADER_SCAN, 200).load("values");
  await context.sync();
  const found = headerRow(top.values, new Set(["Case ID"]));
  if (found.row < 0) return [];
  const cells = areas.areas.items.map((area) => {
    const first = Math.max(area.rowIndex, found.row + 1);
    const count = area.rowIndex + area.rowCount - first;
    return count > 0
      ? sheet.getRangeByIndexes(first, found.columns[0], Math.min(count, 50000), 1).load("values")
      : null;
  });
  await context.sync();
  return cells
    .filter((c) => c !== null)
    .flatMap((c) => c.values.map((row) => String(row[0] ?? "").trim()))
    .filter((c) => c !== "");
}

// A Case ID as the server compares them: spaces collapsed, case folded.
function caseKey(value) {
  return String(value ?? "").split(/\s+/).filter(Boolean).join(" ").toLowerCase();
}

// Reads the sheets and columns a button declares and posts them in pieces under the limit.
// A read of the selected rows sends only the selected clients' rows (each where it stands),
// and with other_ids the other rows' Case IDs alone.
async function upload(button, auth, step) {
  const id = (await post("/pyxl/upload", auth, "{}")).upload;
  let pieces = [];
  let size = 0;
  let sent = 0;
  const flush = async () => {
    sent += 1;
    step(`sending piece ${sent} (${(size / 1e6).toFixed(1)} MB)`);
    await post(`/pyxl/upload/${encodeURIComponent(id)}`, auth, JSON.stringify({ pieces }));
    pieces = [];
    size = 0;
  };
  const add = async (piece) => {
    const bytes = new TextEncoder().encode(JSON.stringify(piece)).length;
    if (bytes > REQUEST_LIMIT * 0.9 && piece.rows.length > 1) {
      const half = Math.ceil(piece.rows.length / 2); // one block too big: send it in halves
      await add({ ...piece, rows: piece.rows.slice(0, half) });
      await add({ ...piece, first_row: piece.first_row + half, rows: piece.rows.slice(half) });
      return;
    }
    if (pieces.length && size + bytes > REQUEST_LIMIT * 0.9) await flush();
    pieces.push(piece);
    size += bytes;
  };
  await Excel.run(async (context) => {
    let chosen = null; // the selected clients' Case IDs (keys), read first
    if (button.selection) {
      step("reading the selected rows");
      const selected = await selectedCases(context);
      chosen = new Set(selected.map(caseKey));
      await post(`/pyxl/upload/${encodeURIComponent(id)}`, auth, JSON.stringify({ selected }));
    }
    for (const read of button.reads) {
      const sheet = context.workbook.worksheets.getItemOrNullObject(read.sheet);
      await context.sync();
      if (sheet.isNullObject) continue; // the script says which sheet is missing
      const used = sheet.getUsedRangeOrNullObject(true).load("rowIndex,rowCount,columnIndex,columnCount");
      await context.sync();
      if (used.isNullObject) continue;
      const rows = used.rowIndex + used.rowCount;
      const columns = used.columnIndex + used.columnCount;
      const top = sheet.getRangeByIndexes(0, 0, Math.min(HEADER_SCAN, rows), columns).load("values");
      await context.sync();
      const found = headerRow(top.values, new Set(read.columns));
      // Only the span of the wanted columns; the whole used range if no header is found.
      const first = found.row < 0 ? 0 : Math.min(...found.columns);
      const width = found.row < 0 ? columns : Math.max(...found.columns) - first + 1;
      const last = read.header_only && found.row >= 0 ? found.row + 1 : rows;
      const block = Math.max(Math.floor(CELLS_PER_READ / width), 1);
      for (let r = 0; r < last; r += block) {
        const count = Math.min(block, last - r);
        step(`reading ${read.sheet} rows ${r + 1}-${r + count} of ${last}`);
        const cells = sheet.getRangeByIndexes(r, first, count, width).load("values");
        await context.sync();
        const caseAt = found.row < 0 ? -1 : top.values[found.row].findIndex(
          (v) => typeof v === "string" && v.trim() === "Case ID",
        );
        if (!read.selected_rows || chosen === null || caseAt < 0) {
          await add({ sheet: read.sheet, first_row: r, first_column: first, rows: cells.values });
          continue;
        }
        // Runs of rows: the header and the selected clients' rows whole, the others' Case IDs.
        let run = null;
        const flushRun = async () => {
          if (run !== null) await add(run.piece);
          run = null;
        };
        for (let i = 0; i < cells.values.length; i += 1) {
          const row = cells.values[i];
          const whole = r + i <= found.row || chosen.has(caseKey(row[caseAt - first]));
          if (!whole && !read.other_ids) {
            await flushRun();
            continue;
          }
          if (run === null || run.whole !== whole) {
            await flushRun();
            const column = whole ? first : caseAt;
            const piece = { sheet: read.sheet, first_row: r + i, first_column: column, rows: [] };
            run = { whole, piece };
          }
          run.piece.rows.push(whole ? row : [row[caseAt - first]]);
        }
        await flushRun();
      }
    }
  });
  if (pieces.length || sent === 0) await flush();
  return id;
}

// Runs a button's script; fixed arguments may say {today} for the user's local date.
async function run(button, extraArgs = []) {
  let args = [...button.args.map((a) => (a === "{today}" ? localDate() : a)), ...extraArgs];
  const auth = await signIn();
  const started = Date.now();
  const text = document.getElementById("pyxl-progress-text");
  let doing = button.working;
  const tick = () => {
    const seconds = Math.round((Date.now() - started) / 1000);
    text.textContent = `${button.label}: ${doing}... ${seconds} s`;
  };
  const step = (what) => {
    doing = what;
    tick();
  };
  tick();
  const timer = setInterval(tick, 1000);
  show("pyxl-progress", true);
  document.getElementById("pyxl-result").textContent = "";
  document.querySelectorAll("#pyxl-buttons-list button").forEach((b) => (b.disabled = true));
  const call = (scriptName, callArgs, lazy) =>
    globalThis.xlwings.runPython({
      scriptName: scriptName,
      args: callArgs,
      auth: auth.token,
      headers: { "Auth-Provider": auth.provider },
      errorDisplayMode: "taskpane",
      lazy: lazy,
    });
  pendingWrites = null;
  try {
    const reads = Array.isArray(button.reads) && button.reads.length > 0;
    const id = reads ? await upload(button, auth, step) : null;
    if (reads) args = [...args, id];
    step(reads ? "computing on the server, then writing" : button.working);
    // While the script runs, its own steps (checking the sheets, evaluating, making the
    // writes) as the server records them.
    let waiting = reads;
    const watch = async () => {
      const answer = await post(`/pyxl/progress/${encodeURIComponent(id)}`, auth, "{}");
      if (waiting && answer.step) step(`on the server: ${answer.step}`);
    };
    const watcher = reads ? setInterval(() => watch().catch(() => undefined), PROGRESS_MS) : null;
    try {
      await call(button.script, args, reads);
    } finally {
      waiting = false;
      clearInterval(watcher);
    }
    let page = 1;
    while (pendingWrites !== null && !errorShown()) {
      const more = pendingWrites;
      pendingWrites = null;
      page += 1;
      step(`writing page ${page} of ${page + more.pages - 1}`);
      await call("more_writes", [more.key], true);
    }
  } catch (error) {
    showError(`${button.label}: ${error.message || error}`);
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

// More writes are waiting on the server: fetched page by page after this response.
function pyxlMore(context, payload) {
  pendingWrites = JSON.parse(payload);
}

globalThis.xlwings.registerCallback(pyxlPreview);
globalThis.xlwings.registerCallback(pyxlOffer);
globalThis.xlwings.registerCallback(pyxlMore);
globalThis.pyxl = { buttons, run };
init();
