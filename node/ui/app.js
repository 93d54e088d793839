// cloudless dashboard. No framework, no build step: it calls the control
// API with the bearer token kept in sessionStorage (taken once from the URL
// fragment #token=... that `cloudless ui` prints; fragments never reach the
// server or its logs) and renders with textContent only, never innerHTML,
// so nothing a peer sends can run as script here.
"use strict";

const TOKEN_KEY = "cloudless.token";
const REFRESH_MS = 2000;
let token = "";
let timer = null;
let seenJobs = new Map();
let parts = {};
let streaming = false;

function $(id) { return document.getElementById(id); }

function takeTokenFromURL() {
  const m = /(?:^#|&)token=([0-9a-fA-F]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, m[1]);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

class AuthError extends Error {}

async function api(path) {
  const resp = await fetch(path, { headers: { "Authorization": "Bearer " + token }, cache: "no-store" });
  if (resp.status === 401) throw new AuthError("token refused");
  if (!resp.ok) {
    let msg = resp.statusText;
    try { msg = (await resp.json()).error || msg; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return resp.json();
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function short(s, n) {
  if (!s) return "";
  n = n || 8;
  return s.length > 2 * n + 1 ? s.slice(0, n) + "…" + s.slice(-n) : s;
}

// ether formats a decimal string of wei as ether without losing precision.
function ether(wei) {
  if (wei === undefined || wei === null || wei === "") return "–";
  let s = String(wei).replace(/^0+/, "") || "0";
  if (!/^[0-9]+$/.test(s)) return String(wei);
  s = s.padStart(19, "0");
  let int = s.slice(0, -18), frac = s.slice(-18).replace(/0+$/, "");
  int = int.replace(/^0+(?=\d)/, "");
  return frac ? int + "." + frac : int;
}

function bytes(n) {
  if (n === undefined || n === null) return "–";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(n < 10 ? 1 : 0) : n) + " " + u[i];
}

function until(t) {
  const d = (new Date(t).getTime() - Date.now()) / 1000;
  if (isNaN(d)) return "";
  if (d <= 0) return "expired";
  return d < 120 ? "in " + Math.round(d) + "s" : "in " + Math.round(d / 60) + "m";
}

function ago(t) {
  if (!t) return "";
  const d = (Date.now() - new Date(t).getTime()) / 1000;
  if (isNaN(d)) return "";
  if (d < 60) return Math.max(0, Math.round(d)) + "s ago";
  if (d < 3600) return Math.round(d / 60) + "m ago";
  if (d < 86400) return Math.round(d / 3600) + "h ago";
  return new Date(t).toLocaleString();
}

function fillTable(id, rows, render) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren(...rows.map(render));
  $(id + "-empty").hidden = rows.length > 0;
}

function kv(id, pairs) {
  const dl = $(id);
  const out = [];
  for (const [k, v] of pairs) { out.push(el("dt", k), el("dd", v === "" || v === undefined ? "–" : v)); }
  dl.replaceChildren(...out);
}

function renderStatus(st) {
  const id = st.id || {};
  $("whoami").textContent = (id.peer_id || "?") + "  ·  " + (id.address || "");
  kv("node", [
    ["peer ID", id.peer_id], ["address", id.address],
    ["provider", id.provider ? "yes" : "no"],
    ["listening", (id.addrs || []).join("\n")],
    ["up since", st.started ? new Date(st.started).toLocaleString() : ""],
  ]);
  parts = {};
  const lis = (st.parts || []).map(p => {
    parts[p.name] = p.running;
    const li = el("li", p.name + (p.note ? " (" + p.note + ")" : ""), p.running ? "" : "down");
    li.title = p.note || "";
    return li;
  });
  $("parts").replaceChildren(...lis);
  $("c-peers").textContent = st.peers;
  const ch = st.chain || {};
  $("c-chain").textContent = ch.enabled
    ? ("chain " + (ch.chain_id || "?") + " · block " + (ch.block || 0) + (ch.error ? " · " + ch.error : ""))
    : "no settlement";
}

function renderJobs(jobs) {
  $("c-jobs").textContent = jobs.length;
  fillTable("jobs", jobs, j => {
    const tr = el("tr");
    const prev = seenJobs.get(j.id);
    if (prev !== undefined && prev !== j.state) tr.className = "fresh";
    seenJobs.set(j.id, j.state);
    tr.dataset.job = j.id;
    const st = el("td"); st.append(el("span", j.state, "state " + j.state));
    tr.append(
      el("td", short(j.id, 6), "mono"), el("td", j.role), st,
      el("td", short(j.module, 6), "mono"), el("td", short(j.provider, 6), "mono"),
      el("td", j.price ? ether(j.price) : "–"),
      el("td", j.exit_code === undefined || j.exit_code === null ? "" : j.exit_code),
      el("td", short(j.result_cid, 6) || (j.error || ""), "mono"),
      el("td", ago(j.updated)));
    tr.title = j.error || "";
    return tr;
  });
}

function renderOffers(offers) {
  $("c-offers").textContent = offers.length;
  fillTable("offers", offers, o => {
    const tr = el("tr");
    tr.append(el("td", short(o.provider, 6), "mono"), el("td", ether(o.price_per_job)),
      el("td", ether(o.price_per_second) + " / " + bytes(o.memory_tier)),
      el("td", bytes(o.free_memory)), el("td", o.free_slots), el("td", until(o.expires)));
    return tr;
  });
}

function renderPeers(peers) {
  fillTable("peers", peers, p => {
    const tr = el("tr");
    tr.append(el("td", short(p.id, 6), "mono"), el("td", (p.addrs || [])[0] || "", "mono"), el("td", p.direction || ""));
    return tr;
  });
}

function renderWallet(w) {
  $("c-earned").textContent = ether(w.earned);
  $("c-spent").textContent = ether(w.spent);
  kv("wallet", [["address", w.address], ["payout", w.payout], ["balance (ether)", ether(w.balance)],
    ["earned (ether)", ether(w.earned)], ["spent (ether)", ether(w.spent)],
    ["withdrawable (ether)", ether(w.withdrawable)], ["channels", String((w.channels || []).length)]]);
}

async function refresh() {
  try {
    renderStatus(await api("/v1/status"));
    const tasks = [];
    if (parts.p2p) tasks.push(api("/v1/peers").then(renderPeers));
    if (parts.market) tasks.push(api("/v1/offers").then(renderOffers));
    if (parts.market || parts.jobs) tasks.push(api("/v1/jobs").then(renderJobs));
    if (parts.wallet) tasks.push(api("/v1/wallet").then(renderWallet));
    else kv("wallet", [["wallet", "not running (no chain configured)"]]);
    await Promise.all(tasks);
    setLive(true);
    if (!streaming && (parts.market || parts.jobs)) follow();
  } catch (e) {
    if (e instanceof AuthError) { logout("The token was refused; paste the current api.token."); return; }
    setLive(false, e.message);
  }
}

function setLive(on, why) {
  const p = $("live");
  p.className = "pill " + (on ? "on" : "off");
  p.textContent = on ? "live" : "offline";
  p.title = why || "refreshes every 2 seconds";
}

// follow reads /v1/events (server-sent events over fetch, so the token
// goes in a header) and refreshes as soon as a job changes.
async function follow() {
  streaming = true;
  try {
    const resp = await fetch("/v1/events", { headers: { "Authorization": "Bearer " + token, "Accept": "text/event-stream" } });
    if (!resp.ok || !resp.body) return;
    const reader = resp.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const chunk = buf.slice(0, i); buf = buf.slice(i + 2);
        if (/^data: /m.test(chunk)) refresh();
      }
    }
  } catch (e) {
    // the daemon went away; polling shows it and follow restarts later
  } finally {
    streaming = false;
  }
}

function start() {
  $("login").hidden = true;
  $("dash").hidden = false;
  refresh();
  timer = setInterval(refresh, REFRESH_MS);
}

function logout(msg) {
  sessionStorage.removeItem(TOKEN_KEY);
  token = "";
  if (timer) clearInterval(timer);
  timer = null;
  $("dash").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = msg || "";
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", ev => {
    ev.preventDefault();
    token = $("token").value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token").value = "";
    start();
  });
  $("logout").addEventListener("click", ev => { ev.preventDefault(); logout(); });
  token = takeTokenFromURL();
  if (token) start(); else logout();
});
