// Live events from EVA in Node, with the graphql-ws client:
//   npm install graphql-ws ws
//   EVA_KEY=eva_... node subscribe.mjs                 # every event of your tenant, as it happens
//   EVA_KEY=eva_... EVA_AFTER=<event id> node subscribe.mjs   # first what you missed since that event
// EVA_URL defaults to http://127.0.0.1:8000 (make run). Prints one JSON line per event.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const api = process.env.EVA_URL ?? "http://127.0.0.1:8000";
const client = createClient({
  url: api.replace(/^http/, "ws") + "/graphql",
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${process.env.EVA_KEY}` },
});

const query = `subscription Live($after: UUID) {
  events(after: $after) { id type timestamp spaceId data }
}`;
for await (const result of client.iterate({ query, variables: { after: process.env.EVA_AFTER ?? null } })) {
  if (result.errors) {
    console.error(JSON.stringify(result.errors));
  } else {
    // Keep the last id: after a restart, EVA_AFTER=<it> replays what happened meanwhile.
    console.log(JSON.stringify(result.data.events));
  }
}
