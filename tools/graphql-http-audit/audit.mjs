// Runs the graphql-http reference audit against a live server and prints the results as JSON.
// Usage: node audit.mjs http://127.0.0.1:8000/graphql
// Exit code 0 only when no MUST failed ("error") and no SHOULD warned ("warn").
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}
const results = await auditServer({ url });
const report = await Promise.all(
  results.map(async (result) => ({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === 'ok' ? undefined : result.reason,
    response:
      result.status === 'ok'
        ? undefined
        : { status: result.response.status, body: await result.response.text() },
  })),
);
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const entry of report) counts[entry.status] = (counts[entry.status] ?? 0) + 1;
console.log(JSON.stringify({ counts, results: report }, null, 2));
process.exit(counts.warn === 0 && counts.error === 0 ? 0 : 1);
