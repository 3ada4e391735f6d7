// The reference graphql-transport-ws client (npm graphql-ws), as an app would use it.
// node graphql_ws_client.mjs <ws url> <api key> <count> <query> [variables JSON]
// Prints "connected", then each payload received as a JSON line; exits 0 after <count> payloads,
// or 2 with the close event if the socket closes first.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, key, count, query, variables] = process.argv.slice(2);
let received = 0;
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${key}` },
  retryAttempts: 0,
  on: {
    connected: () => console.log("connected"),
    closed: (event) => {
      if (received < Number(count)) {
        console.log(JSON.stringify({ closed: event.code, reason: event.reason }));
        process.exit(2);
      }
    },
  },
});
client.subscribe(
  { query, variables: variables ? JSON.parse(variables) : {} },
  {
    next: (payload) => {
      console.log(JSON.stringify(payload));
      received += 1;
      if (received >= Number(count)) {
        client.dispose();
        process.exit(0);
      }
    },
    error: (error) => {
      console.log(JSON.stringify({ error: error.message ?? error }));
      process.exit(3);
    },
    complete: () => {},
  },
);
