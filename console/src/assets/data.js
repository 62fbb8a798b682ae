// Reads shared by the views: tenant names and sizes, the rollout, adoption series.
import { ApiError, gql } from "./api.js";
import { today } from "./i18n.js";

const names = new Map();

/** The adoption window: the last `months` calendar months up to today (the province's days). */
export function period(months = 6) {
  const to = today();
  const [y, m] = to.split("-").map(Number);
  const first = new Date(Date.UTC(y, m - 1 - (months - 1), 1));
  return { from: first.toISOString().slice(0, 10), to };
}

/** {slug: {name, memberCount}} for the given tenants, fetched once per tab. */
export async function tenantInfo(slugs) {
  const missing = slugs.filter((s) => !names.has(s));
  if (missing.length) {
    const data = await gql("TenantNames", { slugs: missing });
    for (const info of data.tenants) names.set(info.slug, info);
  }
  return Object.fromEntries(slugs.map((s) => [s, names.get(s)]));
}

/** The flag's rollout, or {error} (an ApiError) when the role or the server does not give it. */
export async function readRollout(flag) {
  try {
    return { rollout: (await gql("Rollout", { flag })).rollout };
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
  const data = await gql("ProvinceTenants", { from, to });
  return data.adoption.tenants;
}

/** Monthly adoption points of each tenant: {slug: [point…]}. */
export async function adoptionByTenant(slugs, months = 6) {
  const { from, to } = period(months);
  const data = await gql("AdoptionByTenant", { tenants: slugs, from, to });
  return Object.fromEntries(data.adoptionByTenant.map((report) => [report.tenants[0], report.points]));
}

export async function adoptionByWave(flag, months = 6) {
  const { from, to } = period(months);
  const data = await gql("AdoptionByWave", { flag, from, to });
  return data.adoptionByWave;
}

export async function retention(tenant, months = 6) {
  const data = await gql("Retention", { tenant, months });
  return data.retention;
}

export { waveLabel } from "./words.js";
