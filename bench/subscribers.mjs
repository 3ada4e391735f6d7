// bench/subscriptions.py's subscribers: <count> sockets speaking graphql-transport-ws with the
// `ws` package, in one Node process (a Python client spent ~80 µs of CPU on each message, on the
// server's cores: the bench measured its own client).
//
//   node bench/subscribers.mjs <ws url> <api key> <count> <subscription>
//
// Opens the sockets 50 at a time (connection_init, then subscribe once acked), reading each from
// the moment it opens and answering the server's pings, then prints {"ready": n}. Commands on
// stdin, one a line: "deliveries" prints {"deliveries": [[event timestamp, arrival epoch s], ...]}
// for every `next` received (the first field of the subscription's data carries `timestamp`);
// "alive" prints {"alive": n}, the sockets still open; "stop" closes them all and exits.
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

const [url, key, countArg, query] = process.argv.slice(2);
const count = Number(countArg);
const deliveries = [];
const sockets = [];
let alive = 0;

function open() {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, "graphql-transport-ws");
    socket.on("open", () => {
      alive += 1;
      socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${key}` } }));
    });
    socket.on("message", (data) => {
      const arrived = (performance.timeOrigin + performance.now()) / 1000;
      const message = JSON.parse(data);
      if (message.type === "next") {
        const fields = Object.values(message.payload.data);
        deliveries.push([fields[0].timestamp, arrived]);
      } else if (message.type === "ping") {
        socket.send('{"type":"pong"}');
      } else if (message.type === "connection_ack") {
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query } }));
        resolve(socket);
      }
    });
    socket.on("close", (code) => {
      alive -= 1;
      reject(new Error(`closed with ${code} before the ack`));
    });
    socket.on("error", reject);
  });
}

for (let start = 0; start < count; start += 50) {
  const batch = [];
  for (let n = start; n < Math.min(count, start + 50); n += 1) batch.push(open());
  sockets.push(...(await Promise.all(batch)));
}
console.log(JSON.stringify({ ready: sockets.length }));

for await (const line of createInterface({ input: process.stdin })) {
  if (line === "deliveries") {
    console.log(JSON.stringify({ deliveries }));
  } else if (line === "alive") {
    console.log(JSON.stringify({ alive }));
  } else if (line === "stop") {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  }
}
