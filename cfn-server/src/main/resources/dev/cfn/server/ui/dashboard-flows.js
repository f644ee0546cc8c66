// The dashboard's flow panels: task-graph runs (each task's status, a cancel button per running
// run) and swarms (topology, members, who may message whom, refusals). Loaded after dashboard.js,
// whose helpers it uses ($, cell, api, problem, state); it refreshes on its own timer while signed
// in. Text goes in with textContent only, as in dashboard.js.
"use strict";

const FLOWS_REFRESH_MS = 2000;
const MAX_SWARMS_SHOWN = 20;
// The runs last drawn, as JSON: a refresh that brings nothing new leaves the table (and its
// buttons) alone, so that a click in progress is not lost to a redraw between press and release.
let graphsShown = "";

async function refreshFlows() {
  if (!state.token || $("app").hidden) return;
  await Promise.allSettled([graphRuns(), swarms()]);
}

// --- task graphs ---------------------------------------------------------------------------------

async function graphRuns() {
  const res = await api("GET", "/v1/graphs");
  if (!res.ok) {
    $("graphs-error").textContent = await problem(res);
    return;
  }
  const body = await res.json();
  const seen = JSON.stringify(body.runs);
  if (seen === graphsShown) return;
  graphsShown = seen;
  const tbody = $("graphs-table").tBodies[0];
  const rows = [];
  for (const run of body.runs) {
    const tr = document.createElement("tr");
    tr.dataset.run = run.run;
    tr.dataset.status = run.status;
    cell(tr, run.run);
    cell(tr, run.graph);
    cell(tr, run.status + (run.cancelled ? " (" + run.cancelled + ")" : ""));
    const tasks = document.createElement("td");
    const list = document.createElement("ul");
    list.className = "tasks";
    for (const t of run.tasks || []) {
      const li = document.createElement("li");
      li.dataset.task = t.id;
      li.dataset.status = t.status;
      li.className = "task " + String(t.status).toLowerCase();
      li.textContent = t.id + ": " + t.status;
      list.appendChild(li);
    }
    tasks.appendChild(list);
    tr.appendChild(tasks);
    const td = document.createElement("td");
    if (run.status === "RUNNING" && run.origin === "server") {
      const b = document.createElement("button");
      b.className = "cancel-run";
      b.textContent = "Cancel";
      b.addEventListener("click", () => cancelRun(run.run, b));
      td.appendChild(b);
    }
    tr.appendChild(td);
    rows.push(tr);
  }
  tbody.replaceChildren(...rows);
}

async function cancelRun(run, button) {
  button.disabled = true;
  const res = await api("POST", "/v1/graphs/" + encodeURIComponent(run) + "/cancel", {});
  $("graphs-error").textContent = res.ok ? "" : await problem(res);
  button.disabled = false;
  graphRuns();
}

// --- swarms --------------------------------------------------------------------------------------

async function swarms() {
  const res = await api("GET", "/v1/swarms");
  if (!res.ok) {
    $("swarms-error").textContent = await problem(res);
    return;
  }
  const body = await res.json();
  const shown = [];
  for (const s of body.swarms.slice(0, MAX_SWARMS_SHOWN)) {
    const one = await api("GET", "/v1/swarms/" + encodeURIComponent(s.name));
    if (one.ok) shown.push(swarmPanel(await one.json()));
  }
  if (body.swarms.length > MAX_SWARMS_SHOWN) {
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = body.swarms.length - MAX_SWARMS_SHOWN + " more swarm(s) not shown";
    shown.push(p);
  }
  $("swarms-error").textContent = "";
  $("swarms-list").replaceChildren(...shown);
}

/** One swarm: a line of figures, then its members with who each may message (the adjacency). */
function swarmPanel(s) {
  const box = document.createElement("article");
  box.className = "swarm";
  box.dataset.swarm = s.name;
  const h = document.createElement("h3");
  h.textContent =
    s.name + " — " + s.effective + (s.topology !== s.effective ? " (" + s.topology + ")" : "");
  box.appendChild(h);
  const facts = document.createElement("p");
  facts.className = "note";
  const cost = s.budget ? s.budget.costUsd : 0;
  facts.textContent =
    s.members + " member(s), lead " + (s.lead || "none") + ", " + s.refused +
    " message(s) refused, " + s.rounds + " round(s), $" + cost + " spent";
  box.appendChild(facts);
  const rules = Object.entries(s.recentRefusalsByRule || {});
  if (rules.length > 0) {
    const p = document.createElement("p");
    p.className = "refusals";
    p.textContent =
      "recently refused: " + rules.map(([rule, n]) => rule + " × " + n).join(", ");
    box.appendChild(p);
  }
  const table = document.createElement("table");
  table.className = "members";
  const head = table.createTHead().insertRow();
  for (const t of ["Member", "Role", "Coordinator", "Queued", "May message"]) {
    const th = document.createElement("th");
    th.textContent = t;
    head.appendChild(th);
  }
  const tbody = table.createTBody();
  for (const m of s.memberList || []) {
    const tr = tbody.insertRow();
    tr.dataset.member = m.id;
    cell(tr, m.id);
    cell(tr, m.role);
    cell(tr, m.coordinator || "");
    cell(tr, m.queued);
    cell(tr, m.mayMessage ? m.mayMessage.join(", ") : "(too many members to list)");
  }
  box.appendChild(table);
  return box;
}

document.addEventListener("DOMContentLoaded", () => {
  setInterval(refreshFlows, FLOWS_REFRESH_MS);
  setTimeout(refreshFlows, 300); // soon after a saved token signs in
});
