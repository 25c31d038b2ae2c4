// iwfd live console: vanilla JavaScript, served by iwfd itself (no framework, nothing loaded
// from the network). Reads the admin API (docs/operating.md): /v1/status, /v1/links,
// /v1/refusals, /v1/keymap, /v1/keymap/groups/{id}, /v1/audit, and follows /v1/events
// (Server-Sent Events: calls, refusal, links). Every value from the wire (talker aliases,
// group names) goes into the page as text (textContent), never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function hex(n, width) {
  if (n === undefined || n === null) return "";
  return "0x" + Number(n).toString(16).toUpperCase().padStart(width, "0");
}

function duration(s) {
  s = Math.max(0, Math.floor(s || 0));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(sec).padStart(2, "0");
}

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

// ---- calls ----------------------------------------------------------------------------------

function legCell(leg) {
  if (!leg) return el("td", {}, "—");
  const t = leg.talker ? leg.talker.id + (leg.talker.alias ? " (" + leg.talker.alias + ")" : "") : "—";
  return el("td", {},
    el("div", {}, leg.link + " ", el("span", { class: "muted" }, leg.floor || "")),
    el("div", { class: "talker", "data-talker": leg.talker ? leg.talker.id : "" }, t));
}

function e2eeOf(call) {
  // The talker's stream as the legs carry it (ALGID / key ID only: never key material).
  for (const leg of call.legs || []) {
    if (leg.e2ee && leg.e2ee.state !== "unknown") return leg.e2ee;
  }
  return { state: call.e2ee || "unknown" };
}

function renderCalls(view) {
  const calls = view.calls || [];
  const body = $("calls").tBodies[0];
  body.replaceChildren();
  for (const c of calls) {
    const lmr = (c.legs || []).find((l) => l.side === "lmr");
    const mc = (c.legs || []).find((l) => l.side === "mc");
    const e = e2eeOf(c);
    const algkid = e.state === "encrypted" ? hex(e.algid, 2) + " / " + hex(e.kid, 4) : "—";
    const end = el("button", { type: "button", title: "End the call on both legs" }, "End");
    end.addEventListener("click", () => operate("/v1/calls/" + encodeURIComponent(c.id) + "/end"));
    body.append(el("tr", {
        "data-call": c.id, "data-e2ee": e.state, "data-group": c.group || "",
        "data-talker-lmr": lmr && lmr.talker ? lmr.talker.id : "",
        "data-talker-mc": mc && mc.talker ? mc.talker.id : "" },
      el("td", {}, c.id),
      el("td", {}, c.group || c.kind, el("div", { class: "muted" }, c.lmr_group || "")),
      el("td", {}, c.state),
      el("td", {}, (c.floor_arbiter || "") + " " + (c.floor_state || "")),
      el("td", { class: "e2ee-" + e.state }, e.state),
      el("td", {}, algkid),
      el("td", {}, c.mi_resyncs || 0),
      el("td", { class: "duration", "data-started": Date.now() - 1000 * (c.duration_s || 0) },
         duration(c.duration_s)),
      legCell(lmr), legCell(mc),
      el("td", {}, end)));
  }
  $("calls-count").textContent = calls.length;
  $("calls-empty").hidden = calls.length > 0;
}

// Durations tick between events.
setInterval(() => {
  for (const td of document.querySelectorAll("td.duration")) {
    td.textContent = duration((Date.now() - Number(td.dataset.started)) / 1000);
  }
}, 1000);

// ---- links ----------------------------------------------------------------------------------

function sumCounters(counters, word) {
  let n = 0;
  for (const [k, v] of Object.entries(counters || {})) {
    if (k.includes(word) && typeof v === "number") n += v;
    else if (k.includes(word) && v && typeof v === "object") {
      for (const x of Object.values(v)) if (typeof x === "number") n += x;
    }
  }
  return n;
}

function renderLinks(view) {
  const body = $("links").tBodies[0];
  body.replaceChildren();
  for (const l of view.links || []) {
    const peers = el("td", {});
    for (const p of l.peers || []) {
      peers.append(el("div", { "data-peer": p.id },
        p.id + " " + (p.address || "") + " ", el("span", { class: "state-" + p.state }, p.state),
        p.last_seen_s !== undefined ? " (" + Math.round(p.last_seen_s) + " s)" : ""));
    }
    body.append(el("tr", { "data-link": l.id || l.name },
      el("td", {}, l.id || l.name), el("td", {}, l.type), el("td", {}, l.side),
      el("td", { class: "state-" + (l.state || "unknown") }, l.state || "—"), peers,
      el("td", {}, sumCounters(l.counters, "drop")),
      el("td", {}, sumCounters(l.counters, "refus"))));
  }
}

async function loadLinks() {
  try {
    renderLinks(await getJson("/v1/links"));
  } catch (e) {
    // Without /v1/links: the configured links from /v1/status, states unknown.
    const st = await getJson("/v1/status");
    renderLinks({ links: (st.links || []).map((l) => ({ id: l.name, type: l.type, side: l.side })) });
  }
}

// ---- refusals -------------------------------------------------------------------------------

const refusals = [];
const kRefusalsShown = 25;

function renderRefusals() {
  const body = $("refusals").tBodies[0];
  body.replaceChildren();
  for (const r of refusals.slice(0, kRefusalsShown)) {
    body.append(el("tr", { "data-reason": r.reason },
      el("td", {}, r.time), el("td", {}, r.link), el("td", {}, r.call || ""),
      el("td", {}, r.group || ""), el("td", {}, r.source || ""),
      el("td", {}, r.reason), el("td", {}, r.cause === undefined ? "" : r.cause)));
  }
  $("refusals-empty").hidden = refusals.length > 0;
}

async function loadRefusals() {
  try {
    const j = await getJson("/v1/refusals");
    refusals.splice(0, refusals.length, ...(j.refusals || []));
  } catch (e) { /* not served by this iwfd */ }
  renderRefusals();
}

// ---- keymap ---------------------------------------------------------------------------------

async function loadKeymap() {
  try {
    const k = await getJson("/v1/keymap");
    $("keymap-revision").textContent = k.revision;
    $("keymap-summary").textContent = "revision " + k.revision + " from " + k.store +
      ", loaded " + k.loaded_at + ": " + k.groups + " groups, " + k.users + " users";
    const sel = $("group-select");
    const chosen = sel.value;
    sel.replaceChildren(el("option", { value: "" }, "choose a group"));
    for (const g of k.group_list || []) {
      sel.append(el("option", { value: g.group, selected: g.group === chosen },
        g.group + " (TG " + g.tgid + ", " + g.mode + ")"));
    }
  } catch (e) {
    $("keymap-summary").textContent = "no keymap loaded";
  }
}

async function showGroup(id) {
  if (!id) { $("group-detail").hidden = true; return; }
  const g = await getJson("/v1/keymap/groups/" + encodeURIComponent(id));
  const body = $("group-security").tBodies[0];
  body.replaceChildren();
  for (const [k, v] of Object.entries(g.security || {})) {
    const shown = (k === "algid") ? hex(v, 2) : (k === "kid") ? hex(v, 4) : String(v);
    body.append(el("tr", {}, el("th", {}, k), el("td", { "data-field": k }, shown)));
  }
  $("group-xml").textContent = g.xml;
  $("group-detail").hidden = false;
}

// ---- status, audit, operate -----------------------------------------------------------------

async function loadStatus() {
  const st = await getJson("/v1/status");
  $("instance").textContent = st.instance;
  $("version").textContent = st.version;
  $("uptime").textContent = duration(st.uptime_seconds);
  $("config-revision").textContent = st.config ? st.config.revision : "?";
  $("ready").textContent = st.draining ? "draining" : st.ready ? "ready" : "not ready";
  $("ready").className = "badge" + (st.ready ? "" : " bad");
}

async function loadAudit() {
  try {
    const a = await getJson("/v1/audit");
    $("audit").replaceChildren(...(a.audit || []).slice(0, 10).map((x) =>
      el("li", {}, x.time + " " + x.who + "@" + x.client + " " + x.method + " " + x.path +
        " → " + x.status + " " + x.did)));
  } catch (e) { /* older iwfd */ }
}

async function operate(path) {
  const token = $("token").value || sessionStorage.getItem("iwf-token") || "";
  if ($("token").value) sessionStorage.setItem("iwf-token", $("token").value);
  const r = await fetch(path, { method: "POST", headers: token ? { Authorization: "Bearer " + token } : {} });
  let text = r.status + " ";
  try { const j = await r.json(); text += j.result || j.error || ""; } catch (e) { /* text body */ }
  $("operate-result").textContent = path + ": " + text;
  loadAudit();
  loadStatus();
}

$("reload").addEventListener("click", () => operate("/v1/reload"));
$("group-select").addEventListener("change", (ev) => showGroup(ev.target.value));

// ---- live events ----------------------------------------------------------------------------

function connect() {
  const es = new EventSource("/v1/events");
  es.onopen = () => { $("live").textContent = "live"; $("live").className = "badge"; };
  es.onerror = () => { $("live").textContent = "reconnecting"; $("live").className = "badge off"; };
  es.addEventListener("calls", (ev) => renderCalls(JSON.parse(ev.data)));
  es.addEventListener("links", (ev) => renderLinks(JSON.parse(ev.data)));
  es.addEventListener("refusal", (ev) => {
    refusals.unshift(JSON.parse(ev.data));
    refusals.splice(100);
    renderRefusals();
  });
}

async function start() {
  await Promise.allSettled([loadStatus(), loadLinks(), loadRefusals(), loadKeymap(), loadAudit()]);
  getJson("/v1/calls").then(renderCalls).catch(() => {});
  connect();
  // What has no event of its own: every 10 s.
  setInterval(() => { loadStatus(); loadKeymap(); loadAudit(); }, 10000);
}

start();
