// The dashboard's operations panels: alerts (rules, states, history), canary rollouts (step, the
// gates' figures, promote and roll back) and the latest certification report. Loaded before
// dashboard.js and using its helpers ($, cell, api, problem, state) only from functions that run
// after both loaded. Same rules as dashboard.js: every value from the API, text inserted with
// textContent only. Everything lives inside this function, so no name clashes with other files.
"use strict";

(() => {
  const REFRESH_MS = 2000;
  const HISTORY = 50;

  function percent(x) {
    return x == null ? "" : (100 * x).toFixed(1) + " %";
  }

  function number(x) {
    if (x == null || !Number.isFinite(Number(x))) return x == null ? "" : String(x);
    const n = Number(x);
    if (Number.isInteger(n)) return String(n);
    return Math.abs(n) >= 100 ? n.toFixed(1) : String(Number(n.toPrecision(4)));
  }

  const CERTIFY_MS = 30000; // a report changes when cfn certify runs: read it now and then
  let certifiedAt = 0;

  async function refresh() {
    if (!state.token || $("app").hidden) return;
    const all = [alerts(), history(), rollouts()];
    if (Date.now() - certifiedAt >= CERTIFY_MS) {
      certifiedAt = Date.now();
      all.push(certification());
    }
    await Promise.allSettled(all);
  }

  // --- alerts ------------------------------------------------------------------------------------

  async function alerts() {
    const res = await api("GET", "/v1/alerts");
    if (!res.ok) {
      $("alerts-error").textContent = await problem(res);
      return;
    }
    $("alerts-error").textContent = "";
    const body = await res.json();
    const tbody = $("alerts-table").tBodies[0];
    const rows = [];
    let firing = 0;
    for (const r of body.rules) {
      const tr = document.createElement("tr");
      tr.dataset.rule = r.name;
      tr.dataset.state = r.state;
      tr.dataset.severity = r.severity;
      if (r.state === "firing") {
        firing++;
        tr.className = "error";
      }
      cell(tr, r.name);
      cell(tr, r.severity);
      cell(tr, r.state);
      cell(tr, r.since || "");
      cell(tr, number(r.value));
      cell(tr, r.when ? r.condition + " and " + r.when : r.condition);
      cell(tr, r["for"]);
      cell(tr, r.summary);
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
    const label = $("alerts-firing");
    label.textContent = "(" + firing + " firing" + (body.webhook ? ", webhook on" : "") + ")";
    label.className = firing > 0 ? "badge down" : "";
  }

  async function history() {
    const res = await api("GET", "/v1/alerts/history?limit=" + HISTORY);
    if (!res.ok) return;
    const body = await res.json();
    const tbody = $("alert-history-table").tBodies[0];
    const rows = [];
    for (const e of body.entries.slice().reverse()) {
      const tr = document.createElement("tr");
      tr.dataset.rule = e.rule;
      tr.dataset.state = e.state;
      cell(tr, e.at);
      cell(tr, e.rule);
      cell(tr, e.severity);
      cell(tr, e.state);
      cell(tr, number(e.value));
      cell(tr, e.detail);
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
  }

  // --- rollouts ----------------------------------------------------------------------------------

  function figures(f) {
    let text =
      f.tasks + " tasks, errors " + percent(f.errorRate) + ", P95 " + number(f.p95Millis) +
      " ms, cost/task " + number(f.costPerTask);
    if (f.verdicts > 0) text += ", approvals " + percent(f.approvalRate) + " of " + f.verdicts;
    return text;
  }

  function label(v) {
    return v.version == null ? v.hash : v.version + " (" + v.hash + ")";
  }

  async function rollouts() {
    const res = await api("GET", "/v1/rollouts");
    if (!res.ok) {
      $("rollouts-error").textContent = await problem(res);
      return;
    }
    const body = await res.json();
    const tbody = $("rollouts-table").tBodies[0];
    const current = new Map([...tbody.rows].map((tr) => [tr.dataset.agent, tr]));
    const rows = [];
    for (const r of body.rollouts) {
      const old = current.get(r.agent);
      const tr = document.createElement("tr");
      tr.dataset.agent = r.agent;
      tr.dataset.phase = r.phase;
      cell(tr, r.agent);
      cell(tr, r.phase);
      const step = r.steps.indexOf(r.share);
      cell(
        tr,
        r.share + " %" + (r.phase === "running" && step >= 0
          ? " (step " + (step + 1) + " of " + r.steps.length + ", hold " + r.hold + ")"
          : ""),
      );
      cell(tr, label(r.baseline) + " \u2192 " + label(r.canary));
      cell(tr, figures(r.baselineFigures));
      cell(tr, figures(r.canaryFigures));
      const last = r.events.length ? r.events[r.events.length - 1] : null;
      cell(tr, r.reason || (last ? last.kind + ": " + last.detail + " (" + last.by + ")" : ""));
      const td = document.createElement("td");
      if (r.phase === "running") {
        // keep a reason being typed across refreshes
        const typed = old && old.dataset.phase === "running" ? old.querySelector("input.reason") : null;
        const reason = document.createElement("input");
        reason.className = "reason";
        reason.placeholder = "why roll back (for the record)";
        reason.setAttribute("aria-label", "reason to roll " + r.agent + " back");
        if (typed) reason.value = typed.value;
        const promote = document.createElement("button");
        promote.className = "promote";
        promote.textContent = "Promote";
        promote.addEventListener("click", () => act(r.agent, "promote", undefined, td));
        const back = document.createElement("button");
        back.className = "rollback";
        back.textContent = "Roll back";
        back.addEventListener("click", () => {
          const why = reason.value.trim();
          if (!why) {
            $("rollouts-error").textContent = "say why you roll " + r.agent + " back first";
            reason.focus();
            return;
          }
          act(r.agent, "rollback", { reason: why }, td);
        });
        td.append(promote, reason, back);
      }
      tr.appendChild(td);
      const focused = old && old.contains(document.activeElement);
      rows.push(focused && old.dataset.phase === r.phase ? old : tr);
    }
    tbody.replaceChildren(...rows);
  }

  async function act(agent, verb, body, td) {
    for (const b of td.querySelectorAll("button")) b.disabled = true;
    const res = await api("POST", "/v1/rollouts/" + encodeURIComponent(agent) + "/" + verb, body);
    $("rollouts-error").textContent = res.ok ? "" : await problem(res);
    for (const b of td.querySelectorAll("button")) b.disabled = false;
    if (res.ok) {
      const row = td.parentElement;
      if (row) row.remove(); // redrawn from the answer's state by the refresh below
    }
    rollouts();
  }

  // --- certification -----------------------------------------------------------------------------

  async function certification() {
    const res = await api("GET", "/v1/certify/latest");
    const summary = $("certify-summary");
    const tbody = $("certify-table").tBodies[0];
    if (!res.ok) {
      summary.textContent = "";
      tbody.replaceChildren();
      $("certify-note").textContent = await problem(res);
      return;
    }
    const r = await res.json();
    $("certify-note").textContent =
      "profile " + r.profile + ", finished " + r.finished + "; " + (r.levelRules || "");
    const level = document.createElement("span");
    level.id = "certify-level";
    level.className = "badge " + (r.level === "FULL" ? "ready" : r.level === "FAILED" ? "down" : "");
    level.textContent = r.level;
    summary.replaceChildren(
      level,
      document.createTextNode(
        " score " + number(r.score) + ", " + r.passed + " of " + r.total + " checks passed",
      ),
    );
    const rows = [];
    for (const c of r.checks || []) {
      const tr = document.createElement("tr");
      tr.dataset.check = c.name;
      tr.dataset.status = c.status;
      if (c.status !== "PASS") tr.className = "error";
      cell(tr, c.number);
      cell(tr, c.title || c.name);
      cell(tr, c.critical ? "yes" : "no");
      cell(tr, c.measured == null ? "" : number(c.measured) + (c.unit ? " " + c.unit : ""));
      cell(tr, c.targetText || number(c.target));
      cell(tr, c.status);
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
  }

  document.addEventListener("DOMContentLoaded", () => {
    setInterval(refresh, REFRESH_MS);
    // the first paint right after signing in, without waiting for the first tick
    new MutationObserver(() => {
      certifiedAt = 0; // signed in (again): read the report at once
      refresh();
    }).observe($("app"), {
      attributes: true,
      attributeFilter: ["hidden"],
    });
  });
})();
