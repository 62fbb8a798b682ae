// Build the console into dist/: the page, its ES modules and styles, and the chart library
// copied from node_modules (the gateway serves every asset; nothing comes from a CDN).
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "gateway", "console", "static");
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets", "vendor"), { recursive: true });
cpSync(join(here, "src"), dist, { recursive: true });
cpSync(
  join(here, "node_modules", "chart.js", "dist", "chart.umd.min.js"),
  join(dist, "assets", "vendor", "chart.umd.min.js"),
);
console.log(`console built into ${dist}`);
