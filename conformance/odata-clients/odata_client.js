// Reads mixplane's OData surface with @odata/client (npm), a client nobody here wrote.
//
//     node odata_client.js BASE_URL TOKEN        (NODE_PATH: the folder of its node_modules)
//
// Through the client's own API: every entity set read whole in windows of $top/$skip with
// its count, a filter (eq, ge on an instant, in), an order, $select and $expand; and
// server-driven paging: a first page asked with `Prefer: odata.maxpagesize=50`, whose
// `@odata.nextLink`s are followed to the end. It prints a JSON summary of what it parsed; the
// Rust test (crates/mixplane/tests/odata_clients.rs) compares it with the server's answers.
"use strict";
const { OData, EdmV4 } = require("@odata/client");

const WINDOW = 200;
const PAGE = 50;

async function main() {
  const [base, token] = process.argv.slice(2);
  const serviceEndpoint = base.replace(/\/$/, "") + "/odata/";
  const headers = { Authorization: `Bearer ${token}` };
  const client = OData.New4({ serviceEndpoint, commonHeaders: headers });
  const service = await (await fetch(serviceEndpoint, { headers })).json();
  const summary = { sets: {} };
  for (const { name } of service.value) {
    const set = client.getEntitySet(name);
    const key = name === "AuditRecords" ? "seq" : "id";
    const keys = [];
    for (let skip = 0; ; skip += WINDOW) {
      const rows = await set.query(
        client.newOptions().top(WINDOW).skip(skip).orderby(key, "asc"),
      );
      keys.push(...rows.map((r) => String(r[key])));
      if (rows.length < WINDOW) break;
    }
    summary.sets[name] = { rows: keys.length, count: await set.count(), keys: keys.sort() };
  }

  const results = client.getEntitySet("QualityResults");
  const [first] = await results.query(client.newOptions().top(1).orderby("time", "asc"));
  const since = new Date(Date.parse(first.time) + 6 * 3600 * 1000);
  const filter = client
    .newFilter()
    .field("characteristic").eqString(first.characteristic)
    .field("time").gt(EdmV4.DateTimeOffset.from(since));
  const filtered = await results.query(
    client.newOptions().filter(filter).orderby("time", "desc").select(["id", "time"]),
  );
  summary.filtered = {
    characteristic: first.characteristic,
    since: since.toISOString(),
    ids: filtered.map((r) => r.id),
    fields: [...new Set(filtered.flatMap((r) => Object.keys(r)))].sort(),
  };

  const orders = client.getEntitySet("Orders");
  const some = await orders.query(client.newOptions().top(3).orderby("id", "asc"));
  const wanted = some.map((o) => o.id);
  const inList = await orders.query(
    client.newOptions().filter(client.newFilter().field("id").in(wanted)).expand("operations"),
  );
  summary.expanded = Object.fromEntries(
    inList.map((o) => [o.id, o.operations.map((op) => op.id).sort()]),
  );

  // Server-driven paging: the first page through the client's request, the rest by link.
  const pageHeaders = { ...headers, Prefer: `odata.maxpagesize=${PAGE}` };
  const paged = OData.New4({ serviceEndpoint, commonHeaders: pageHeaders });
  let response = await paged.newRequest({ collection: "QualityResults", method: "GET" });
  const ids = [];
  let pages = 0;
  for (;;) {
    pages += 1;
    ids.push(...response.value.map((r) => r.id));
    const next = response["@odata.nextLink"];
    if (!next) break;
    response = await (await fetch(next, { headers: pageHeaders })).json();
  }
  summary.paged = { pages, rows: ids.length, distinct: new Set(ids).size };
  console.log(JSON.stringify(summary));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
