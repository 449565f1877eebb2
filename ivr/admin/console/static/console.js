// ivr console: small behaviours on top of server-rendered pages. No framework; htmx does polling.
"use strict";

const HEADERS = { "Content-Type": "application/json", "X-IVR-Console": "1" };

async function api(method, url, body) {
  const response = await fetch(url, {
    method, credentials: "same-origin", headers: HEADERS,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const detail = (data && data.detail) || response.statusText;
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return data;
}

function toast(message, kind) {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = message;
  box.className = "show " + (kind || "");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.className = ""; }, 4000);
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function confirmDialog(text) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    document.getElementById("confirm-ok").focus();
  });
}

// ---- flow editor -------------------------------------------------------------------------

function setupEditor(app) {
  const flow = app.dataset.flow;
  const textarea = document.getElementById("yaml");
  const gutter = document.getElementById("gutter");
  const issuesList = document.getElementById("issues");
  const validity = document.getElementById("validity");
  let problemLines = new Map();
  let timer = null;
  let seq = 0;

  function drawGutter() {
    const count = textarea.value.split("\n").length;
    const rows = [];
    for (let i = 1; i <= count; i++) {
      const msg = problemLines.get(i);
      rows.push(msg ? `<span class="bad" title="${msg.replace(/"/g, "&quot;")}">${i}</span>` : `<span>${i}</span>`);
    }
    gutter.innerHTML = rows.join("");
    gutter.scrollTop = textarea.scrollTop;
  }

  function jumpTo(line, column) {
    const lines = textarea.value.split("\n");
    let offset = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += Math.max(0, (column || 1) - 1);
    textarea.focus();
    textarea.setSelectionRange(offset, offset);
    const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 18;
    textarea.scrollTop = Math.max(0, (line - 4) * lineHeight);
  }

  function showIssues(issues) {
    problemLines = new Map();
    issuesList.replaceChildren();
    for (const issue of issues) {
      if (issue.line) problemLines.set(issue.line, issue.message);
      const where = issue.line ? `line ${issue.line}, column ${issue.column || 1}` : "file";
      const button = el("button", { type: "button", class: "issue", "data-line": String(issue.line || 0) },
        el("strong", {}, where), ": " + issue.message);
      button.addEventListener("click", () => jumpTo(issue.line || 1, issue.column || 1));
      issuesList.append(el("li", {}, button));
    }
    drawGutter();
  }

  async function refreshGraph() {
    const html = await api("POST", "/console/flows-graph", { yaml: textarea.value });
    const wrap = document.getElementById("graph");
    const keep = wrap.scrollLeft;
    wrap.innerHTML = html;
    wrap.scrollLeft = keep;
  }

  async function validate() {
    const mine = ++seq;
    validity.textContent = "checking…";
    validity.className = "validity";
    try {
      const result = await api("POST", "/api/flows/validate", { yaml: textarea.value });
      if (mine !== seq) return result;
      showIssues(result.issues);
      validity.textContent = result.ok ? "valid" : `${result.issues.length} problem(s)`;
      validity.className = "validity " + (result.ok ? "ok" : "bad");
      if (result.ok) await refreshGraph();
      return result;
    } catch (err) {
      validity.textContent = "could not validate: " + err.message;
      validity.className = "validity bad";
      return null;
    }
  }

  textarea.addEventListener("input", () => {
    drawGutter();
    clearTimeout(timer);
    timer = setTimeout(validate, 500);
  });
  textarea.addEventListener("scroll", () => { gutter.scrollTop = textarea.scrollTop; });
  textarea.addEventListener("keydown", (event) => {
    // Tab indents inside the editor; Escape then Tab leaves it, so the keyboard is never trapped.
    if (event.key === "Escape") { textarea.dataset.escaped = "1"; return; }
    if (event.key === "Tab" && !event.shiftKey && textarea.dataset.escaped !== "1") {
      event.preventDefault();
      const { selectionStart: s, selectionEnd: e } = textarea;
      textarea.setRangeText("  ", s, e, "end");
      drawGutter();
      return;
    }
    delete textarea.dataset.escaped;
  });
  document.getElementById("validate-btn").addEventListener("click", validate);

  const pick = document.getElementById("version-pick");
  pick.addEventListener("change", () => {
    if (pick.value) location.href = `/console/flows/${encodeURIComponent(flow)}?version=${pick.value}`;
  });

  const save = document.getElementById("save-btn");
  if (save) save.addEventListener("click", async () => {
    try {
      const saved = await api("POST", `/api/flows/${encodeURIComponent(flow)}/versions`, { yaml: textarea.value });
      if (saved.issues.length) {
        showIssues(saved.issues);
        toast(`Saved v${saved.version} as a draft: fix the problems before publishing.`, "warn");
      } else {
        toast(`Saved v${saved.version} (${saved.state}).`, "ok");
      }
      setTimeout(() => { location.href = `/console/flows/${encodeURIComponent(flow)}?version=${saved.version}`; }, 600);
    } catch (err) { toast(err.message, "bad"); }
  });

  const publish = document.getElementById("publish-btn");
  if (publish) publish.addEventListener("click", async () => {
    const version = app.dataset.version;
    if (!(await confirmDialog(`Publish ${flow} v${version}? The next call uses it; calls in progress finish on their version.`))) return;
    try {
      const done = await api("POST", `/api/flows/${encodeURIComponent(flow)}/publish`, { version: Number(version) });
      toast(`Published v${done.version}.`, "ok");
      setTimeout(() => location.reload(), 600);
    } catch (err) { toast(err.message, "bad"); }
  });

  const rollback = document.getElementById("rollback-btn");
  if (rollback) rollback.addEventListener("click", async () => {
    if (!(await confirmDialog(`Roll ${flow} back to the version published before this one?`))) return;
    try {
      const done = await api("POST", `/api/flows/${encodeURIComponent(flow)}/rollback`);
      toast(`Rolled back: v${done.version} is live.`, "ok");
      setTimeout(() => location.reload(), 600);
    } catch (err) { toast(err.message, "bad"); }
  });

  document.getElementById("diff-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const a = document.getElementById("diff-a").value;
    const b = document.getElementById("diff-b").value;
    const out = document.getElementById("diff-out");
    try {
      const result = await api("GET", `/api/flows/${encodeURIComponent(flow)}/diff?a=${a}&b=${b}`);
      out.replaceChildren();
      if (!result.diff) { out.textContent = "No differences."; return; }
      for (const line of result.diff.split("\n")) {
        const kind = line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : "";
        out.append(el("span", { class: kind }, line + "\n"));
      }
    } catch (err) { out.textContent = err.message; }
  });

  setupSimulator(app);
  drawGutter();
  validate();
}

// ---- simulator ---------------------------------------------------------------------------

function simInputs(text) {
  // "1 2#" -> dtmf:1 dtmf:2 dtmf:#; "say:billing" and "wait:2" pass through.
  const out = [];
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    if (word.includes(":")) out.push(word);
    else for (const ch of word) out.push("dtmf:" + ch);
  }
  return out;
}

function setupSimulator(app) {
  const flow = app.dataset.flow;
  const form = document.getElementById("sim-form");
  const inputs = document.getElementById("sim-inputs");
  const result = document.getElementById("sim-result");
  const texts = JSON.parse(document.getElementById("prompt-texts").textContent || "{}");
  const language = app.dataset.language || "en";

  for (const key of document.querySelectorAll(".keypad .key")) {
    key.addEventListener("click", () => {
      inputs.value = (inputs.value.trim() + " " + key.dataset.key).trim();
    });
  }
  document.getElementById("sim-clear").addEventListener("click", () => {
    inputs.value = "";
    result.replaceChildren();
    lightPath([]);
    inputs.focus();
  });

  function promptLine(item) {
    const id = (item.name || "").replace(/^ivr\//, "");
    const text = (texts[id] && (texts[id][language] || Object.values(texts[id])[0])) || item.name;
    const line = el("li", { class: "ev prompt" }, el("span", { class: "t" }, item.t.toFixed(1) + "s"),
      el("span", { class: "what" }, "IVR says: "), el("q", {}, text));
    if (item.interrupted_by) line.append(el("span", { class: "muted" }, ` (cut off by ${item.interrupted_by})`));
    if (!item.missing && /^[A-Za-z0-9_-]+$/.test(id)) {
      line.append(el("audio", { controls: "", preload: "none", src: `/console/prompts/${language}/${id}.wav`, "aria-label": "play " + id }));
    }
    return line;
  }

  function eventLine(item) {
    if (item.event === "prompt") return promptLine(item);
    const t = el("span", { class: "t" }, (item.t || 0).toFixed(1) + "s");
    const describe = {
      answer: () => "call answered",
      dtmf: () => `caller pressed ${item.digit}`,
      speech: () => `caller said “${item.text || ""}”`,
      transfer: () => `transferred to ${item.to}`,
      variable: () => `${item.name} = ${item.value}`,
      hangup: () => "hang up",
      end: () => "call ended",
    }[item.event];
    const text = describe ? describe() : `${item.event} ${JSON.stringify(item)}`;
    return el("li", { class: "ev " + item.event }, t, el("span", { class: "what" }, text));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = document.getElementById("sim-run");
    button.disabled = true;
    result.replaceChildren(el("p", { class: "muted" }, "Calling…"));
    try {
      const version = app.dataset.version ? Number(app.dataset.version) : null;
      const run = await api("POST", `/api/flows/${encodeURIComponent(flow)}/simulate`, {
        caller: form.elements.caller.value, dnis: form.elements.dnis.value,
        inputs: simInputs(inputs.value), version,
      });
      const summary = el("p", { class: "sim-summary" },
        el("span", { class: "badge outcome-" + run.outcome }, run.outcome),
        run.intent ? el("span", { class: "badge" }, "intent: " + run.intent) : "",
        el("span", { class: "muted" }, " path: " + run.path.join(" → ")));
      const list = el("ol", { class: "transcript" });
      for (const item of run.transcript) list.append(eventLine(item));
      result.replaceChildren(summary, list);
      lightPath(run.path);
    } catch (err) {
      result.replaceChildren(el("p", { class: "error" }, err.message));
    } finally {
      button.disabled = false;
    }
  });
}

function lightPath(path) {
  const svg = document.querySelector("#graph svg");
  if (!svg) return;
  svg.querySelectorAll(".lit").forEach((n) => n.classList.remove("lit", "last"));
  path.forEach((id, i) => {
    const node = svg.querySelector(`.node[data-node="${CSS.escape(id)}"]`);
    if (node) { node.classList.add("lit"); if (i === path.length - 1) node.classList.add("last"); }
    if (i > 0) {
      const edge = svg.querySelector(`.edge[data-from="${CSS.escape(path[i - 1])}"][data-to="${CSS.escape(id)}"]`);
      if (edge) edge.classList.add("lit");
    }
  });
}

// ---- charts ------------------------------------------------------------------------------

function drawCharts() {
  if (!window.Chart) return;
  Chart.defaults.animation = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
    const spec = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    new Chart(canvas, spec);
  }
}

// ---- small page hooks --------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  const app = document.getElementById("flow-app");
  if (app) setupEditor(app);
  const newFlow = document.querySelector("form[data-new-flow]");
  if (newFlow) newFlow.addEventListener("submit", (event) => {
    event.preventDefault();
    location.href = "/console/flows/" + encodeURIComponent(newFlow.elements.name.value.trim());
  });
  drawCharts();
});

// Wide graphs are centred on their start node, which sits in the middle of the first row.
function centreGraph() {
  const wrap = document.getElementById("graph");
  const start = wrap && wrap.querySelector(".node.start");
  if (!start) return;
  const node = start.getBoundingClientRect();
  const box = wrap.getBoundingClientRect();
  wrap.scrollLeft += node.left + node.width / 2 - (box.left + box.width / 2);
}
document.addEventListener("DOMContentLoaded", centreGraph);

// ---- htmx: error fragments and bar widths ------------------------------------------------

// A 4xx answered in HTML is one of our escaped fragments saying what to fix (a taken or
// malformed campaign name, a file too large): show it where the form asked. JSON error bodies
// are never swapped in as HTML.
document.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  const html = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/html");
  if (xhr.status >= 400 && xhr.status < 500 && html) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// Bar widths come as data-width (percent) and are set through the CSSOM: the
// Content-Security-Policy refuses inline style attributes.
function sizeBars(root) {
  for (const bar of root.querySelectorAll("[data-width]")) {
    bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.width) || 0)) + "%";
  }
}
document.addEventListener("DOMContentLoaded", () => sizeBars(document));
document.addEventListener("htmx:load", (event) => sizeBars(event.detail.elt));
