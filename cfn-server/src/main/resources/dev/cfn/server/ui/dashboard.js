// The cfn dashboard: a static page over the node's own REST API, /metrics and /v1/events.
// Every value shown comes from the API; text is inserted with textContent only (no innerHTML), so
// agent names, payloads and errors cannot inject markup. The token lives in sessionStorage.
"use strict";

const TOKEN_KEY = "cfn.token";
const REFRESH_MS = 2000;
const POINTS = 150; // about five minutes of 2 s samples

const state = {
  token: null,
  timer: null,
  events: null, // AbortController of the event stream
  lastEventId: null,
  charts: {},
  series: { t: [], rate: [], p95: [] },
  previous: null, // the last scrape: { at, delivered }
};

function $(id) {
  return document.getElementById(id);
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  row.appendChild(td);
  return td;
}

async function api(method, path, body) {
  const headers = { Authorization: "Bearer " + state.token };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 401) {
    signOut("the node refused the token (expired or revoked?): sign in again");
    throw new Error("unauthorized");
  }
  return res;
}

async function problem(res) {
  try {
    const p = await res.json();
    return (p.title || res.status) + ": " + (p.detail || "");
  } catch (e) {
    return "HTTP " + res.status;
  }
}

// --- sign in / out -------------------------------------------------------------------------------

async function signIn(token) {
  state.token = token;
  let res;
  try {
    res = await fetch("/v1/agents", { headers: { Authorization: "Bearer " + token } });
  } catch (e) {
    $("login-error").textContent = "the node did not answer: " + e.message;
    return false;
  }
  if (!res.ok) {
    $("login-error").textContent =
      res.status === 401
        ? "the node refused this token (check it, or create one: cfn token create --role viewer)"
        : await problem(res);
    state.token = null;
    return false;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("login-error").textContent = "";
  $("login").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = false;
  start();
  return true;
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
  if (state.events) state.events.abort();
  state.events = null;
  $("app").hidden = true;
  $("signout").hidden = true;
  $("login").hidden = false;
  $("token").value = "";
  $("login-error").textContent = reason || "";
  $("node-status").textContent = "not signed in";
  $("node-status").className = "badge";
}

// --- refresh -------------------------------------------------------------------------------------

function start() {
  makeCharts();
  refresh();
  state.timer = setInterval(refresh, REFRESH_MS);
  followEvents();
}

async function refresh() {
  if (!state.token) return;
  await Promise.allSettled([health(), agents(), loops(), deadLetters(), budgets(), metrics()]);
}

async function health() {
  const badge = $("node-status");
  try {
    const res = await fetch("/health/ready");
    badge.textContent = res.ok ? "ready" : "not ready";
    badge.className = "badge " + (res.ok ? "ready" : "down");
  } catch (e) {
    badge.textContent = "unreachable";
    badge.className = "badge down";
  }
}

async function agents() {
  const res = await api("GET", "/v1/agents");
  if (!res.ok) return;
  const body = await res.json();
  $("live-agents").textContent = "(" + body.liveAgents + " live in the runtime)";
  const tbody = $("agents-table").tBodies[0];
  tbody.replaceChildren();
  for (const a of body.agents) {
    const tr = document.createElement("tr");
    tr.dataset.agent = a.id;
    cell(tr, a.id);
    cell(tr, a.alive ? "running" : "stopped");
    cell(tr, a.mailboxDepth);
    cell(tr, a.processed);
    cell(tr, a.failures);
    cell(tr, a.restarts);
    tbody.appendChild(tr);
  }
  const defs = $("definitions-table").tBodies[0];
  defs.replaceChildren();
  for (const d of body.definitions) {
    const tr = document.createElement("tr");
    cell(tr, d.name);
    cell(tr, d.description);
    cell(tr, d.registered ? "yes" : "no");
    defs.appendChild(tr);
  }
}

async function loops() {
  const res = await api("GET", "/v1/loops");
  if (!res.ok) {
    $("loops-error").textContent = await problem(res);
    return;
  }
  const body = await res.json();
  const tbody = $("loops-table").tBodies[0];
  const rows = [];
  for (const run of body.loops) {
    const tr = document.createElement("tr");
    tr.dataset.run = run.id;
    tr.dataset.status = run.status;
    cell(tr, run.id);
    cell(tr, run.status);
    cell(tr, run.iterations);
    cell(tr, run.tokens);
    cell(tr, run.costUsd);
    cell(tr, run.reason || "");
    const td = document.createElement("td");
    if (run.status === "WAITING") {
      const note = document.createElement("input");
      note.className = "note";
      note.placeholder = "why (for the record)";
      td.appendChild(note);
      for (const choice of ["PROCEED", "DEFER", "ABORT"]) {
        const b = document.createElement("button");
        b.className = "decide " + choice.toLowerCase();
        b.textContent = choice;
        b.addEventListener("click", () => decide(run.id, choice, note.value, td));
        td.appendChild(b);
      }
    }
    tr.appendChild(td);
    rows.push(tr);
  }
  // a person typing a note must not lose it to the refresh: keep rows whose status did not change
  const current = new Map([...tbody.rows].map((tr) => [tr.dataset.run, tr]));
  const next = rows.map((tr) => {
    const old = current.get(tr.dataset.run);
    return old && old.dataset.status === tr.dataset.status && tr.dataset.status === "WAITING"
      ? old
      : tr;
  });
  tbody.replaceChildren(...next);
}

async function decide(run, decision, note, td) {
  for (const b of td.querySelectorAll("button")) b.disabled = true;
  const res = await api("POST", "/v1/loops/" + encodeURIComponent(run) + "/decision", {
    decision,
    note,
  });
  $("loops-error").textContent = res.ok ? "" : await problem(res);
  for (const b of td.querySelectorAll("button")) b.disabled = false;
  loops();
}

async function deadLetters() {
  const res = await api("GET", "/v1/dead-letters");
  if (!res.ok) {
    $("dead-error").textContent = await problem(res);
    return;
  }
  const body = await res.json();
  const tbody = $("dead-table").tBodies[0];
  tbody.replaceChildren();
  for (const d of body.deadLetters) {
    const tr = document.createElement("tr");
    tr.dataset.id = d.id;
    cell(tr, d.id);
    cell(tr, d.to);
    cell(tr, d.type);
    cell(tr, d.attempts);
    cell(tr, d.cause);
    cell(tr, d.deadAt);
    const td = document.createElement("td");
    const b = document.createElement("button");
    b.className = "replay";
    b.textContent = "Replay";
    b.addEventListener("click", () => replay(d.id, b));
    td.appendChild(b);
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
}

async function replay(id, button) {
  button.disabled = true;
  const res = await api("POST", "/v1/dead-letters/" + encodeURIComponent(id) + "/replay");
  $("dead-error").textContent = res.ok ? "" : await problem(res);
  button.disabled = false;
  deadLetters();
}

async function budgets() {
  const res = await api("GET", "/v1/budgets");
  if (!res.ok) return;
  $("budgets-json").textContent = JSON.stringify(await res.json(), null, 2);
}

// --- metrics and charts --------------------------------------------------------------------------

/** Parses the Prometheus text format into [{name, labels, value}]. */
function parseMetrics(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[l[1]] = l[2];
      }
    }
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

function sum(samples, name) {
  let total = null;
  for (const s of samples) {
    if (s.name === name && Number.isFinite(s.value)) total = (total || 0) + s.value;
  }
  return total;
}

/** P95 in seconds: a summary's quantile="0.95", else interpolated from histogram buckets. */
function p95(samples, base) {
  const q = samples.find((s) => s.name === base && s.labels.quantile === "0.95");
  if (q && Number.isFinite(q.value)) return q.value;
  const buckets = samples
    .filter((s) => s.name === base + "_bucket")
    .map((s) => ({ le: s.labels.le === "+Inf" ? Infinity : Number(s.labels.le), n: s.value }))
    .sort((a, b) => a.le - b.le);
  if (buckets.length === 0) return null;
  const total = buckets[buckets.length - 1].n;
  if (!(total > 0)) return null;
  const want = 0.95 * total;
  for (const b of buckets) {
    if (b.n >= want) return Number.isFinite(b.le) ? b.le : null;
  }
  return null;
}

function makeCharts() {
  if (typeof uPlot === "undefined" || state.charts.rate) return;
  const opts = (label, stroke) => ({
    width: 460,
    height: 200,
    series: [{}, { label, stroke, width: 2 }],
    axes: [{}, { size: 60 }],
  });
  state.charts.rate = new uPlot(opts("msg/s", "#2563eb"), [[], []], $("chart-throughput"));
  state.charts.p95 = new uPlot(opts("P95 ms", "#c2410c"), [[], []], $("chart-latency"));
}

async function metrics() {
  const res = await api("GET", "/metrics");
  if (res.status === 404) {
    $("metrics-note").textContent = "this node serves no /metrics: the charts stay empty";
    return;
  }
  if (!res.ok) {
    $("metrics-note").textContent = "metrics: " + (await problem(res));
    return;
  }
  const samples = parseMetrics(await res.text());
  $("metrics-note").textContent = "";
  const now = Date.now() / 1000;
  const delivered = sum(samples, "cfn_messages_delivered_total");
  let rate = null;
  if (delivered != null && state.previous && now > state.previous.at) {
    rate = Math.max(0, (delivered - state.previous.delivered) / (now - state.previous.at));
  }
  if (delivered != null) state.previous = { at: now, delivered };
  const latency = p95(samples, "cfn_message_latency_seconds");
  const s = state.series;
  s.t.push(now);
  s.rate.push(rate);
  s.p95.push(latency == null ? null : latency * 1000);
  for (const k of ["t", "rate", "p95"]) {
    if (s[k].length > POINTS) s[k].shift();
  }
  makeCharts();
  if (state.charts.rate) {
    state.charts.rate.setData([s.t, s.rate]);
    state.charts.p95.setData([s.t, s.p95]);
  }
  const gauges = $("gauges");
  gauges.replaceChildren();
  const show = (label, value) => {
    if (value == null) return;
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    gauges.append(dt, dd);
  };
  show("messages/s", rate == null ? null : rate.toFixed(1));
  show("latency P95", latency == null ? null : (latency * 1000).toFixed(3) + " ms");
  show("mailbox depth", sum(samples, "cfn_mailbox_depth"));
  show("journal backlog", sum(samples, "cfn_journal_backlog"));
  show("errors", sum(samples, "cfn_errors_total"));
  show("HTTP connections", sum(samples, "cfn_http_connections_active"));
}

// --- live events (fetch, because EventSource cannot send a bearer token) -------------------------

async function followEvents() {
  const controller = new AbortController();
  state.events = controller;
  const label = $("events-state");
  while (state.token && !controller.signal.aborted) {
    try {
      const headers = { Authorization: "Bearer " + state.token, Accept: "text/event-stream" };
      if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
      const res = await fetch("/v1/events", { headers, signal: controller.signal });
      if (!res.ok) {
        label.textContent = "(" + (await problem(res)) + ")";
        await pause(5000, controller.signal);
        continue;
      }
      label.textContent = "(live)";
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          onEvent(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
      }
    } catch (e) {
      if (controller.signal.aborted) return;
    }
    label.textContent = "(reconnecting)";
    await pause(1000, controller.signal);
  }
}

function onEvent(block) {
  let id = null;
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("id: ")) id = line.slice(4);
    else if (line.startsWith("event: ")) name = line.slice(7);
    else if (line.startsWith("data: ")) data.push(line.slice(6));
  }
  if (id != null) state.lastEventId = id; // the stream's opening id: line has no data
  if (id == null || data.length === 0) return; // a comment (keep-alive) or a position only
  const li = document.createElement("li");
  li.dataset.event = name;
  li.textContent = name + " " + data.join("\n");
  if (name === "gap") {
    // the node's window moved past the last event seen (or the node restarted): events were
    // missed, so the panels are read again now; a reconnection without it lost nothing
    li.textContent = "gap: events were missed (" + data.join("") + "); the panels were read again";
    refresh();
  }
  const list = $("events-list");
  list.prepend(li);
  while (list.children.length > 200) list.lastChild.remove();
}

function pause(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

// --- wiring --------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    signIn($("token").value.trim());
  });
  $("signout").addEventListener("click", () => signOut(""));
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
});
