// Reads shared by the views: tenant names and sizes, the rollout, adoption series.
import { ApiError, gql } from "./api.js";

const names = new Map();

/** The adoption window: the last `months` calendar months up to today (local days). */
export function period(months = 6) {
  const today = new Date();
  const first = new Date(today.getFullYear(), today.getMonth() - (months - 1), 1);
  const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  return { from: iso(first), to: iso(today) };
}

/** {slug: {name, memberCount}} for the given tenants, fetched once per tab. */
export async function tenantInfo(slugs) {
  const missing = slugs.filter((s) => !names.has(s));
  if (missing.length) {
    const fields = missing.map((_, i) => `t${i}: tenant(slug: $s${i}) { slug name memberCount }`);
    const params = missing.map((_, i) => `$s${i}: String!`).join(", ");
    const variables = Object.fromEntries(missing.map((s, i) => [`s${i}`, s]));
    const data = await gql(`query TenantNames(${params}) { ${fields.join(" ")} }`, variables);
    for (const info of Object.values(data)) names.set(info.slug, info);
  }
  return Object.fromEntries(slugs.map((s) => [s, names.get(s)]));
}

const ROLLOUT = `query Rollout($flag: String!) { rollout(flag: $flag) {
  flag status wave step version flagVersion guardrailDrop guardrailEffectiveDrop
  tenants { tenant wave percentage since state }
  waves { position name tenants ramp earliestStart startedAt
    gate { passed sustainDays results { tenant metric minimum current daysHeld passed } } } } }`;

/** The flag's rollout, or {error} (an ApiError) when the role or the server does not give it. */
export async function readRollout(flag) {
  try {
    return { rollout: (await gql(ROLLOUT, { flag })).rollout };
  } catch (error) {
    if (error instanceof ApiError) return { error };
    throw error;
  }
}

/** The tenants the console shows: the rollout's, else the province's (adoption), else home. */
export async function visibleTenants(app, rollout) {
  if (rollout) return rollout.tenants.map((t) => t.tenant);
  if (!app.access.readsProvince) return [app.access.tenant];
  const { from, to } = period(1);
  const data = await gql(`query P($from: Date!, $to: Date!) { adoption(from: $from, to: $to) { tenants } }`, { from, to });
  return data.adoption.tenants;
}

const POINT = "start end members activationRate activeMembers uses";

/** Monthly adoption points of each tenant: {slug: [point…]}. */
export async function adoptionByTenant(slugs, months = 6) {
  const { from, to } = period(months);
  const fields = slugs.map((_, i) => `a${i}: adoption(tenant: $s${i}, from: $from, to: $to, granularity: MONTH) { points { ${POINT} } }`);
  const params = slugs.map((_, i) => `$s${i}: String!`).join(", ");
  const variables = { from, to, ...Object.fromEntries(slugs.map((s, i) => [`s${i}`, s])) };
  const data = await gql(`query Adoption($from: Date!, $to: Date!, ${params}) { ${fields.join(" ")} }`, variables);
  return Object.fromEntries(slugs.map((s, i) => [s, data[`a${i}`].points]));
}

export async function adoptionByWave(flag, months = 6) {
  const { from, to } = period(months);
  const data = await gql(`query ByWave($flag: String!, $from: Date!, $to: Date!) {
    adoptionByWave(flag: $flag, from: $from, to: $to, granularity: MONTH) { position name tenants points { ${POINT} } } }`,
  { flag, from, to });
  return data.adoptionByWave;
}

export async function retention(tenant, months = 6) {
  const data = await gql(`query Retention($tenant: String, $months: Int!) {
    retention(tenant: $tenant, months: $months) { month activated active rates } }`, { tenant, months });
  return data.retention;
}

export function waveLabel(t, position) {
  return position === 0 ? t("province.pilot") : t("province.waveN", { n: position });
}
