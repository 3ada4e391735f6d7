// A minimal receiver of EVA webhooks that verifies every request. Node 18+, no dependencies.
//
//     WEBHOOK_SECRET=whsec_... PORT=8080 node verify_webhook.mjs
//
// PORT=0 picks a free port; the first line printed says which.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const SECRET = process.env.WEBHOOK_SECRET; // the endpoint's secret, "whsec_..."
if (!SECRET) throw new Error("set WEBHOOK_SECRET");
const KEY = Buffer.from(SECRET.replace(/^whsec_/, ""), "base64");
const TOLERANCE_SECONDS = 5 * 60;
const seenIds = new Set(); // in production: a table with a unique key, kept for a week or more

// Throws unless `body` (a Buffer of the raw bytes received) is signed by KEY.
function verify(headers, body) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) throw new Error("missing webhook headers");
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) {
    throw new Error("timestamp missing, too old or too new");
  }
  const digest = createHmac("sha256", KEY).update(`${id}.${timestamp}.`).update(body).digest("base64");
  const expected = Buffer.from(`v1,${digest}`);
  // Several space-separated signatures while a secret is being rotated: any one may match.
  const matches = signatures.split(" ").some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new Error("no matching signature");
}

const server = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const body = Buffer.concat(chunks); // the raw bytes, not re-serialised JSON
    try {
      verify(request.headers, body); // Node gives header names in lower case
    } catch (refused) {
      response.writeHead(401).end(refused.message);
      return;
    }
    const id = request.headers["webhook-id"];
    if (!seenIds.has(id)) { // the same delivery can arrive twice: act on it once
      seenIds.add(id);
      const event = JSON.parse(body);
      console.log(`received ${event.type} (${id})`); // better: queue it, answer at once
    }
    response.writeHead(204).end();
  });
});

server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? "127.0.0.1", () => {
  const { address, port } = server.address();
  console.log(`listening on http://${address}:${port}`);
});
