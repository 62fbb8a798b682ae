// Times in the province's time zone (the API's `rollout.timeZone`): shown with its offset and
// typed in it, whatever the zone of the admin's computer.
import { lang } from "../../i18n.js";

const locale = () => (lang() === "vi" ? "vi-VN" : "en-GB");

/** Minutes the zone is ahead of UTC at instant `ms`. */
function offsetMinutes(zone, ms) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(ms));
  const p = Object.fromEntries(parts.map((x) => [x.type, Number(x.value)]));
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60000);
}

/** "GMT+7" for the zone at that instant. */
function offsetName(zone, date) {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone: zone, timeZoneName: "shortOffset" }).formatToParts(date);
  return parts.find((p) => p.type === "timeZoneName")?.value ?? zone;
}

/** An ISO instant as the zone's wall time, with its offset: "02/01/2099, 09:30 GMT+7". */
export function formatZoned(iso, zone) {
  if (!iso) return "—";
  const date = new Date(iso);
  const text = new Intl.DateTimeFormat(locale(), { dateStyle: "short", timeStyle: "short", timeZone: zone }).format(date);
  return `${text} ${offsetName(zone, date)}`;
}

/** A datetime-local value ("2099-01-02T09:30") read as wall time in `zone` → ISO instant. */
export function zonedToIso(local, zone) {
  const [day, time] = local.split("T");
  const [y, m, d] = day.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let instant = wall - offsetMinutes(zone, wall) * 60000;
  instant = wall - offsetMinutes(zone, instant) * 60000;  // the offset at the instant itself
  return new Date(instant).toISOString();
}
