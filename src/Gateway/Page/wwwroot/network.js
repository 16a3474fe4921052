// The network page: one EventSource on /api/network/events keeps a small state; each section re-renders from it.
// DOM is built with textContent only (object names and reasons are user data), never innerHTML.

const state = {
  cluster: null,
  jobs: new Map(),
  objects: null,
  repair: null,
  ledger: null,
  selectedJob: null,
  epochs: null,
  updated: null,
};

const $ = (id) => document.getElementById(id);

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A long identifier, shortened on screen; the whole value is in the title and read by screen readers.
function ident(value, keep = 10) {
  if (!value) return h("span", { class: "muted", text: "—" });
  const text = String(value);
  // Every Ed25519 did:key starts with the same 12 characters: show what tells them apart.
  const tail = text.startsWith("did:key:z6Mk") ? text.slice(12) : text;
  const short = tail.length > keep + 7 ? `${tail.slice(0, keep)}…${tail.slice(-6)}` : tail;
  return h("span", { class: "id", title: text, "aria-label": text }, short);
}

const STATUS = {
  alive: ["ok", "●"], dead: ["bad", "✕"], retired: ["", "○"], leaving: ["warn", "◐"],
  Active: ["ok", "●"], Joining: ["warn", "◐"], ShuttingDown: ["warn", "◐"], Dead: ["bad", "✕"],
  Pending: ["", "○"], Scheduled: ["warn", "◐"], Executed: ["warn", "◐"], Validating: ["warn", "◐"],
  Disputed: ["bad", "!"], Validated: ["ok", "✓"], Settled: ["ok", "✓"], Failed: ["bad", "✕"], Cancelled: ["", "–"],
  Assigned: ["warn", "◐"], Running: ["warn", "◐"], Reported: ["ok", "✓"], TimedOut: ["bad", "✕"], Errored: ["bad", "✕"],
  healthy: ["ok", "✓"], degraded: ["warn", "!"], unreadable: ["bad", "✕"],
};

function badge(status) {
  const [tone, symbol] = STATUS[status] || ["", "○"];
  return h("span", { class: `badge ${tone}` }, h("span", { "aria-hidden": "true" }, symbol), String(status));
}

const nf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
function bytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${nf.format(v)} ${units[i]}`;
}

function ago(iso) {
  if (!iso) return "—";
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 2) return "just now";
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

function when(iso) {
  return iso ? h("time", { datetime: iso, title: new Date(iso).toLocaleString() }, ago(iso)) : h("span", { class: "muted", text: "—" });
}

function cell(label, content, cls) {
  return h("td", { "data-label": label, class: cls }, content);
}

function fill(tableId, rows, emptyText) {
  const table = $(tableId);
  const columns = table.tHead.rows[0].cells.length;
  const body = h("tbody");
  if (rows.length === 0) body.append(h("tr", { class: "empty" }, h("td", { colspan: columns, text: emptyText })));
  else body.append(...rows);
  table.tBodies[0].replaceWith(body);
}

// ---- sections -------------------------------------------------------------------------------------------------------

function renderCluster() {
  const c = state.cluster;
  if (!c) return;
  fill("silos-table", c.silos.map((s) => h("tr", {},
    cell("Silo", ident(s.id, 14)),
    cell("Address", h("span", { class: "id", text: s.address })),
    cell("Status", badge(s.status)),
    cell("Started", when(s.started)),
    cell("Last heartbeat", when(s.lastHeartbeat)))), "No silos.");

  fill("nodes-table", c.nodes.map((n) => h("tr", { "data-node": n.id, "data-status": n.status },
    cell("Node", ident(n.id)),
    cell("Status", badge(n.status)),
    cell("Silo", ident(n.siloId, 6)),
    cell("Engine", n.engine ? `${n.engine}${n.engineVersion ? " " + n.engineVersion : ""}` : "—"),
    cell("Cores", `${n.cores}${n.gpu ? " + GPU" : ""}`, "num"),
    cell("Memory", bytes(n.memoryBytes), "num"),
    cell("Storage used", `${bytes(n.usedStorageBytes)} / ${bytes(n.storageBytes)}`, "num"),
    cell("Running", `${n.runningJobs} / ${n.concurrency}`, "num"),
    cell("Price: M fuel · GB-month", `${nf.format(n.pricePerMillionFuel)} · ${nf.format(n.pricePerGbMonth)}`, "num"),
    cell("Reputation", n.reputation.toFixed(3), "num"),
    cell("Heartbeat", when(n.lastHeartbeat)))), "No nodes registered.");

  const alive = c.nodes.filter((n) => n.status === "alive").length;
  $("sum-silos").textContent = String(c.silos.filter((s) => s.status === "Active").length);
  $("sum-nodes").textContent = `${alive} / ${c.nodes.length}`;
}

const FINAL = new Set(["Settled", "Failed", "Cancelled"]);

function renderJobs() {
  // Re-rendering replaces the rows: keep the keyboard where it was.
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("tr[data-job]");
  const focusedJob = focused ? focused.dataset.job : null;
  const jobs = [...state.jobs.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
  fill("jobs-table", jobs.map((j) => {
    const select = () => selectJob(j.id);
    return h("tr", { class: `selectable${state.selectedJob === j.id ? " selected" : ""}`, "data-job": j.id, "data-status": j.status, onclick: select },
      cell("Job", h("button", { class: "link id", type: "button", title: j.id, "aria-label": `Job ${j.id}, ${j.status}`, onclick: (e) => { e.stopPropagation(); select(); } }, j.id.slice(13))),
      cell("Status", badge(j.status)),
      cell("Module", ident(j.module, 8)),
      cell("Executor", ident(j.executor, 8)),
      cell("Fuel", j.fuel != null ? nf.format(j.fuel) : "—", "num"),
      cell("Price", j.price != null ? nf.format(j.price) : "—", "num"),
      cell("Submitted", when(j.createdAt)));
  }), "No jobs in the last day.");
  if (focusedJob) document.querySelector(`tr[data-job="${focusedJob}"] button`)?.focus();
  $("sum-jobs").textContent = String(jobs.filter((j) => !FINAL.has(j.status) && j.status !== "Pending").length);
  renderJobDetail();
}

function selectJob(id) {
  state.selectedJob = id;
  if (location.hash !== `#job=${id}`) history.replaceState(null, "", `#job=${id}`);
  if (!state.jobs.has(id)) {
    // Not among the recent jobs: read it once.
    fetch(`/api/jobs/${encodeURIComponent(id)}`, { headers: { accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((job) => { if (job) { state.jobs.set(job.id, job); schedule(); } })
      .catch(() => {});
  }
  schedule();
}

function renderJobDetail() {
  const job = state.selectedJob && state.jobs.get(state.selectedJob);
  const body = $("job-detail-body");
  $("job-detail-empty").hidden = Boolean(job);
  body.hidden = !job;
  if (!job) return;

  const transitions = h("ol", { class: "timeline", "aria-label": "Status timeline" },
    job.transitions.map((t) => h("li", { "data-to": t.to },
      h("time", { datetime: t.at, title: new Date(t.at).toLocaleString() }, new Date(t.at).toLocaleTimeString()),
      badge(t.to),
      t.nodeId ? [" ", ident(t.nodeId, 8)] : null,
      h("span", { class: "why", text: t.reason }))));

  const assignments = h("table", { class: "assignments" },
    h("caption", { class: "visually-hidden", text: "Assignments" }),
    h("thead", {}, h("tr", {}, ["Role", "Node", "Status", "Result hash", "Agreed"].map((c) => h("th", { scope: "col", text: c })))),
    h("tbody", {}, job.assignments.map((a) => h("tr", { "data-role": a.role },
      h("td", { text: a.role }),
      h("td", {}, ident(a.nodeId, 6)),
      h("td", {}, badge(a.status)),
      h("td", {}, ident(a.resultHash, 6)),
      h("td", { text: a.agreed == null ? "—" : a.agreed ? "yes" : "no" })))));

  const facts = [
    ["Id", h("span", { class: "id", text: job.id })],
    ["Status", badge(job.status)],
    ["Module", ident(job.module, 12)],
    ["Entry", job.entry],
    ["Executor", ident(job.executor, 12)],
    ["Validators", job.validatorNodes.length ? job.validatorNodes.map((v) => ident(v, 8)).flatMap((x, i) => (i ? [", ", x] : [x])) : `${job.validators} asked`],
    ["Result hash", job.resultHash ? h("span", { class: "id", "data-field": "result-hash", text: job.resultHash }) : "—"],
    ["Exit code", job.exitCode ?? "—"],
    ["Fuel", job.fuel != null ? `${nf.format(job.fuel)} of ${nf.format(job.fuelLimit)}` : `limit ${nf.format(job.fuelLimit)}`],
    ["Price", job.price ?? "—"],
    ["Output", job.outputLength != null ? h("a", { href: `/api/jobs/${encodeURIComponent(job.id)}/output` }, `${bytes(job.outputLength)}`) : "—"],
    ["Reason", job.reason || "—"],
  ];
  body.replaceChildren(
    h("dl", {}, facts.map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)])),
    h("h4", { text: "Timeline" }), transitions,
    h("h4", { text: "Executor and validators" }), assignments);
}

function renderObjects() {
  const o = state.objects;
  if (!o) return;
  fill("objects-table", o.items.map((x) => {
    const k = x.dataShards;
    const stripes = h("span", { class: "stripes", role: "img", "aria-label": `${x.stripeHealth.filter((s) => s === k + x.parityShards).length} of ${x.stripes} stripes fully healthy` },
      x.stripeHealth.map((healthy, i) => h("span", {
        class: `stripe${healthy < k ? " bad" : healthy < k + x.parityShards ? " warn" : ""}`,
        title: `stripe ${i}: ${healthy} of ${k + x.parityShards} shards healthy (needs ${k})`,
      })));
    const healthy = x.healthyShards === x.totalShards;
    return h("tr", { "data-object": `${x.namespace}/${x.name}`, "data-health": healthy ? "healthy" : x.readable ? "degraded" : "unreadable" },
      cell("Object", h("span", { class: "id", title: `${x.namespace}/${x.name}` }, `${x.namespace}/${x.name}`)),
      cell("Size", bytes(x.size), "num"),
      cell("Owner", ident(x.owner, 8)),
      cell("Coding", `${k} + ${x.parityShards}`),
      cell("Shards", h("span", {}, badge(healthy ? "healthy" : x.readable ? "degraded" : "unreadable"), ` ${x.healthyShards} / ${x.totalShards}`)),
      cell("Health per stripe", stripes),
      cell("Stored", when(x.created)));
  }), "No objects yet.");
  $("sum-objects").textContent = `${o.items.length}${o.truncated ? "+" : ""}`;
  $("sum-shards").textContent = String(o.shardsOnDeadNodes);
}

function renderRepair() {
  const r = state.repair;
  if (!r) return;
  const el = $("repair");
  if (!r.available) { el.textContent = "Repairs: this gateway runs no repair passes (they run on silos)."; return; }
  const parts = [r.running ? "Repairs: a pass is running now." : "Repairs: idle."];
  if (r.last) {
    parts.push(`Last pass ${ago(r.last.finishedAt)}: ${r.last.checkedObjects} objects checked, ${r.last.repairedObjects} repaired (${r.last.repairedShards} shards), ${r.last.unrecoverable} unrecoverable, ${r.last.orphansDeleted ?? 0} orphan shards deleted.`);
  } else {
    parts.push("No pass has finished on this silo since it started.");
  }
  el.textContent = parts.join(" ");
}

function renderLedger() {
  const l = state.ledger;
  if (!l) return;
  const totals = $("ledger-totals");
  if (!l.available) {
    totals.replaceChildren();
    fill("accounts-table", [], "This gateway serves no ledger.");
    $("sum-supply").textContent = "—";
    return;
  }
  const micro = (n) => (n / 1e6).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 6 });
  totals.replaceChildren(...[
    ["Supply (xmbl.c)", micro(l.supply)],
    ["Balances (xmbl.c)", micro(l.balances)],
    ["In flight (xmbl.c)", micro(l.inFlight)],
    ["Accounts", `${l.accountCount}${l.truncated ? "+" : ""}`],
  ].map(([k, v]) => h("div", {}, h("dt", { text: k }), h("dd", { text: v }))));
  $("sum-supply").textContent = micro(l.supply);
  fill("accounts-table", l.accounts.map((a) => h("tr", {},
    cell("Account", ident(a.id, 14)),
    cell("Balance (xmbl.c)", a.balanceXmblC, "num"),
    cell("Pending out", micro(a.pendingOut), "num"),
    cell("History", String(a.historyCount), "num"))), "No accounts yet.");
  if (l.epochsPath) loadEpochs(l.epochsPath);
  else $("epochs").replaceChildren(h("p", { class: "muted", text: "This gateway publishes no epoch roots yet." }));
}

let epochsAt = 0;
function loadEpochs(path) {
  if (Date.now() - epochsAt < 15000) return;
  epochsAt = Date.now();
  fetch(path, { headers: { accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${r.status}`))))
    .then((body) => {
      const items = Array.isArray(body) ? body : body.items || [];
      const target = $("epochs");
      if (items.length === 0) { target.replaceChildren(h("p", { class: "muted", text: "No epoch has closed yet." })); return; }
      const columns = Object.keys(items[0]).filter((k) => typeof items[0][k] !== "object").slice(0, 6);
      target.replaceChildren(h("div", { class: "table" }, h("table", {},
        h("caption", { text: "Epochs, as the ledger committed them" }),
        h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", text: c })))),
        h("tbody", {}, items.slice(-20).reverse().map((e) => h("tr", {}, columns.map((c) => {
          const v = e[c];
          return cell(c, typeof v === "string" && v.length > 24 ? ident(v, 10) : String(v ?? "—"));
        })))))));
    })
    .catch(() => $("epochs").replaceChildren(h("p", { class: "muted", text: "Epoch roots could not be read just now." })));
}

// ---- rendering and the live feed -------------------------------------------------------------------------------------

const dirty = new Set();
let frame = 0;
function schedule(...parts) {
  for (const p of parts.length ? parts : ["jobs"]) dirty.add(p);
  if (!frame) frame = requestAnimationFrame(flush);
}
function flush() {
  frame = 0;
  if (dirty.has("cluster")) renderCluster();
  if (dirty.has("jobs")) renderJobs();
  if (dirty.has("objects")) renderObjects();
  if (dirty.has("repair")) renderRepair();
  if (dirty.has("ledger")) renderLedger();
  dirty.clear();
  if (state.updated) $("updated").textContent = `Last change ${new Date(state.updated).toLocaleTimeString()}.`;
}

function connection(kind, text) {
  const el = $("conn");
  el.className = `conn ${kind}`;
  $("conn-text").textContent = text;
}

function connect() {
  const source = new EventSource("/api/network/events");
  const on = (name, apply) => source.addEventListener(name, (e) => {
    apply(JSON.parse(e.data));
    state.updated = Date.now();
  });
  source.onopen = () => connection("live", "Live");
  source.onerror = () => connection("down", source.readyState === EventSource.CLOSED ? "Disconnected" : "Reconnecting…");
  on("cluster", (c) => { state.cluster = c; schedule("cluster"); });
  on("job", (j) => { state.jobs.set(j.id, j); schedule("jobs"); });
  on("objects", (o) => { state.objects = o; schedule("objects"); });
  on("repair", (r) => { state.repair = r; schedule("repair"); });
  on("ledger", (l) => { state.ledger = l; schedule("ledger"); });
}

// Relative times ("12 s ago") move on between events.
setInterval(() => schedule("cluster", "jobs", "objects", "repair"), 5000);

const fromHash = /^#job=([0-9a-f-]{25})$/.exec(location.hash);
if (fromHash) selectJob(fromHash[1]);
connect();
