// Live updates: the rollout and province views re-render when anyone changes the rollout.
// Pushed by the gateway as server-sent events (/admin/api/events, read with fetch so the token
// travels in the Authorization header, not the URL); while that stream is down, the console
// polls the flag's newest audit entry instead.
import { gql, token } from "./api.js";
import { t } from "./i18n.js";
import { personName } from "./words.js";

const POLL_MS = 3000;
const RETRY_MS = 5000;
let running = false;
let controller = null;
let poller = null;
let seen = null;

async function latest(flag) {
  const entry = (await gql("LatestAudit", { flag })).rolloutAudit[0] ?? null;
  return { entry, key: entry ? `${entry.at} ${entry.action} ${entry.actor}` : "" };
}

function refresh(app, entry, via) {
  const live = document.getElementById("live");
  live.textContent = t("live.changed", { actor: entry ? personName(entry.actorName, entry.actorMemberName, entry.actor) : "?" });
  live.title = entry?.actor ?? "";  // the subject on hover, the name in the text
  live.dataset.via = via;
  const view = location.hash.replace(/^#\//, "") || "province";
  // An open dialog is not replaced: it refreshes its own figures (and keeps the version it was
  // opened on, so its confirmation is refused if the plan moved: views/rollout/act.js).
  if (document.getElementById("confirm").open) app.dialogRefresh?.();
  else if (view === "rollout" || view === "province") app.render();
}

async function poll(app) {
  try {
    const { entry, key } = await latest(app.flag);
    if (seen !== null && key !== seen) refresh(app, entry, "poll");
    seen = key;
  } catch {
    // retried at the next tick
  }
}

function startPolling(app) {
  if (poller === null) poller = setInterval(() => poll(app), POLL_MS);
}

function stopPolling() {
  clearInterval(poller);
  poller = null;
}

/** A pushed change of `flag` (the page's flag, or another of the Rollout page's flag list). */
async function onPush(app, flag) {
  try {
    const { entry, key } = await latest(flag);
    if (flag === app.flag) seen = key;
    // one's own action re-rendered the view already, with its outcome
    if (entry?.actor !== app.access.subject) refresh(app, entry, "push");
  } catch {
    refresh(app, null, "push");
  }
}

/** The flag an event's `data: {"flag": …}` names, if it names one. */
function flagOf(block) {
  try {
    return JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null")?.flag ?? null;
  } catch {
    return null;
  }
}

async function listen(app) {
  controller = new AbortController();
  const response = await fetch("/admin/api/events", {
    headers: { Authorization: `Bearer ${token()}` }, signal: controller.signal,
  });
  if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("events: closed");
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (\w+)/m.exec(block)?.[1];
      if (event === "ready") stopPolling();
      if (event === "rollout") onPush(app, flagOf(block) || app.flag);
    }
  }
}

async function connect(app) {
  while (running) {
    try {
      await listen(app);
    } catch {
      if (!running) return;
      startPolling(app);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

export function startLive(app) {
  if (running || !app.access?.canManageRollout) return;
  running = true;
  poll(app);
  connect(app);
}

export function stopLive() {
  running = false;
  controller?.abort();
  stopPolling();
  seen = null;
}
