// The legacy subscriptions-transport-ws client (Apollo's old WebSocketLink speaks it).
// node legacy_client.mjs <ws url> <api key> <count> <query> [variables JSON]
// Prints "connected", then each payload received as a JSON line; exits 0 after <count> payloads.
import pkg from "subscriptions-transport-ws";
import WebSocket from "ws";

const { SubscriptionClient } = pkg;
const [url, key, count, query, variables] = process.argv.slice(2);
let received = 0;
const client = new SubscriptionClient(
  url,
  { connectionParams: { Authorization: `Bearer ${key}` }, reconnect: false },
  WebSocket,
);
client.onConnected(() => console.log("connected"));
client.onDisconnected(() => {
  if (received < Number(count)) {
    console.log(JSON.stringify({ closed: true }));
    process.exit(2);
  }
});
client.request({ query, variables: variables ? JSON.parse(variables) : {} }).subscribe({
  next: (payload) => {
    console.log(JSON.stringify(payload));
    received += 1;
    if (received >= Number(count)) {
      client.close();
      process.exit(0);
    }
  },
  error: (error) => {
    console.log(JSON.stringify({ error: String(error.message ?? error) }));
    process.exit(3);
  },
});
