// Build the console into dist/: the page, its ES modules and styles, and the chart library
// copied from node_modules (the gateway serves every asset; nothing comes from a CDN).
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets", "vendor"), { recursive: true });
cpSync(join(here, "src"), dist, { recursive: true });
cpSync(
  join(here, "node_modules", "chart.js", "dist", "chart.umd.min.js"),
  join(dist, "assets", "vendor", "chart.umd.min.js"),
);
// GraphiQL for GET /graphql (React 18 UMD + GraphiQL's UMD bundle), served offline by the gateway.
mkdirSync(join(dist, "graphiql"));
for (const file of [
  "react/umd/react.production.min.js",
  "react-dom/umd/react-dom.production.min.js",
  "graphiql/graphiql.min.js",
  "graphiql/graphiql.min.css",
]) {
  cpSync(join(here, "node_modules", file), join(dist, "graphiql", basename(file)));
}
console.log(`console built into ${dist}`);
