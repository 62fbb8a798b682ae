// District view (tenant admins): their district's place in the flag's rollout, its adoption (the
// figures the adoption query gives), and the ramp within their wave. How far the ramp may go is
// the API's (`districtRollout.maximum`); every change carries the plan version shown, and a stale
// one is refused by the server (VERSION_CONFLICT: the view reloads and says the plan changed).
import { gql } from "../api.js";
import { formatDateTime, formatNumber, formatPercent, monthLabel, t } from "../i18n.js";
import { alertBox, h, plainError, show } from "../ui.js";
import { destroyCharts, sparkline } from "../charts.js";
import { adoptionByTenant, tenantInfo, waveLabel } from "../data.js";
import { errorText, flagName, waveName } from "../words.js";
import { CONFLICT } from "./rollout/act.js";

function facts(id, rows) {
  return h("dl", { id, class: "facts" },
    rows.flatMap(([key, value, cls]) => [h("dt", {}, t(key)), h("dd", { class: cls ?? null }, value)]));
}

function stateCard(district) {
  // the pilot's name says it is the pilot; a later wave's is told with its number
  const named = district.waveName ? waveName(district.waveName) : "";
  const wave = district.wave === null ? "—"
    : district.wave === 0 && named ? named : [waveLabel(t, district.wave), named].filter(Boolean).join(": ");
  return h("section", { class: "card", "aria-labelledby": "district-state-title" },
    h("h2", { id: "district-state-title" }, t("district.state")),
    facts("district-state", [
      ["province.wave", wave, "wave-name"],
      ["province.state", t(`state.${district.state}`), `state ${district.state}`],
      ["province.percentage", `${district.percentage}%`, "percentage"],
      ["province.since", district.since ? formatDateTime(district.since) : "—", "since"],
    ]));
}

function adoptionCard(points) {
  const last = points.at(-1);
  const rates = points.map((p) => p.activationRate ?? 0);
  const canvas = h("canvas", { width: "240", height: "48", role: "img",
    "aria-label": `${t("province.trend")}: ${rates.map((r) => formatPercent(r)).join(", ")}` });
  const card = h("section", { class: "card", "aria-labelledby": "district-adoption-title" },
    h("h2", { id: "district-adoption-title" }, t("district.adoption")),
    last ? h("p", { class: "sub" }, t("district.month", { month: monthLabel(last.start, true) })) : null,
    facts("district-adoption", [
      ["district.members", last ? formatNumber(last.members) : "—", "members"],
      ["province.activation", formatPercent(last?.activationRate), "activation"],
      ["province.mam", last ? formatNumber(last.activeMembers) : "—", "mam"],
      ["district.uses", last ? formatNumber(last.uses) : "—", "uses"],
    ]),
    h("p", {}, canvas, h("span", { class: "scale" }, t("province.scale"))));
  return { card, draw: () => sparkline(canvas, rates) };
}

async function saveRamp(ctx, event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const say = (text, kind) => ctx.reload().then(() => {
    const result = ctx.main.querySelector("#ramp-result");
    result?.replaceChildren(alertBox(text, kind));
    result?.focus();
  });
  try {
    const { result } = await gql("SetTenantRamp", { flag: ctx.app.flag, percentage: Number(form.get("percentage")),
      reason: String(form.get("reason")).trim(), expectedVersion: ctx.district.version });
    const [error] = result.errors;
    if (!error) return say(t("district.rampDone", { pct: `${result.percentage}%` }), "ok");
    return say(error.code === CONFLICT ? t("plan.changed") : errorText(error.code, error.message), "error");
  } catch (error) {
    return say(plainError(error), "error");
  }
}

function rampCard(ctx) {
  const { district } = ctx;
  const open = district.maximum > 0;
  return h("section", { id: "district-ramp", class: "card", "aria-labelledby": "district-ramp-title" },
    h("h2", { id: "district-ramp-title" }, t("district.ramp")),
    h("p", { id: "ramp-help", class: "help" },
      open ? t("district.rampHelp", { max: `${district.maximum}%` }) : t("district.rampClosed")),
    open ? h("form", { id: "ramp-form", class: "filters", dataset: { version: district.version },
      onsubmit: (event) => saveRamp(ctx, event) },
    h("div", { class: "field" }, h("label", { for: "ramp-percentage" }, t("district.rampInput")),
      h("input", { id: "ramp-percentage", name: "percentage", type: "number", min: "0", max: String(district.maximum),
        step: "any", required: true, value: String(district.percentage), "aria-describedby": "ramp-help" })),
    h("div", { class: "field" }, h("label", { for: "ramp-reason" }, t("rollout.reason")),
      h("input", { id: "ramp-reason", name: "reason", required: true })),
    h("button", { type: "submit", class: "primary" }, t("district.rampSave"))) : null,
    h("div", { id: "ramp-result", "aria-live": "polite", tabindex: "-1" }));
}

export async function districtView(main, app) {
  destroyCharts();
  const own = app.access.tenant;
  try {
    const [info, adoption] = await Promise.all([tenantInfo([own]), adoptionByTenant([own])]);
    const title = h("h1", {}, t("district.title", { name: info[own]?.name ?? own }));
    const { card, draw } = adoptionCard(adoption[own] ?? []);
    let district = null;
    let refused = null;
    try {
      district = (await gql("DistrictRollout", { flag: app.flag })).districtRollout;
    } catch (error) {
      refused = alertBox(plainError(error), "info");
    }
    const ctx = { main, app, district, reload: () => districtView(main, app) };
    show(main, title,
      h("p", { id: "district-status", class: "sub", dataset: { version: district?.version ?? "" } },
        `${t("flag")}: ${flagName(app.flag)}`, district ? ` — ${t("district.planStatus", { status: t(`status.${district.status}`) })}` : ""),
      refused, district ? [stateCard(district), rampCard(ctx)] : null, card);
    draw();
  } catch (error) {
    show(main, h("h1", {}, t("nav.district")), alertBox(plainError(error)));
  }
}
