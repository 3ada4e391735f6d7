#!/usr/bin/env node
"use strict";
/*
 * Local Cosmos DB emulator for development and tests.
 *
 *   node evaapi/devservices/cosmos_emulator.js --host 127.0.0.1 --port 8081
 *
 * Runs the npm package @vercel/cosmosdb-server (1.0.1) over PLAIN HTTP with keep-alive,
 * data in memory. Prints exactly one stdout line once listening:
 *   cosmos-emulator ready http://HOST:PORT
 * and exits cleanly on SIGTERM / SIGINT. Set COSMOS_EMULATOR_LOG=1 to log requests to stderr.
 *
 * Python client (the key is not checked, but the SDK needs it to be valid base64):
 *   CosmosClient("http://HOST:PORT/", credential="<any key>")
 *
 * TEST-ONLY fault injection (inert unless a test uses it; real Cosmos has no such endpoint):
 *   POST   /_faults  {"status": 429, "count": 3, "retry_after_ms": 5, "match": "read"}
 *   GET    /_faults  -> the current rule and how many faults it has injected so far
 *   DELETE /_faults  -> no faults
 * The next `count` document requests that match answer `status` (429 or 503) with the headers
 * real Cosmos sends (429: x-ms-retry-after-ms + x-ms-substatus 3200; 503: x-ms-substatus
 * 21008), then requests behave normally again. `match` is "read" (point read), "query"
 * (query POST, including the SDK's query-plan request) or "any" (any request under .../docs:
 * reads, writes, queries, batches). Optional "collection": only that container's requests;
 * optional "substatus" overrides the default. Account, database, container and pkranges
 * requests are never faulted. One rule at a time; a POST replaces it.
 *
 * The package has several bugs that matter to us. node_modules stays untouched: we load the
 * package's handler modules, replace their `default` export (and patch a few prototypes), and
 * only THEN load lib/index.js. Its routes.js reads each handler's `.default` exactly once,
 * when it builds the routing table, so it picks up our versions.
 */
const { randomUUID } = require("crypto");
const path = require("path");

const SERVER_LIB = path.join(
  path.dirname(require.resolve("@vercel/cosmosdb-server/package.json")),
  "lib"
);
const QUERY_LIB = path.dirname(
  require.resolve("@zeit/cosmosdb-query", { paths: [SERVER_LIB] })
);
const load = name => require(path.join(SERVER_LIB, name));

const Items = load("account/items").default;
const Documents = load("account/documents").default;
const getValue = load("utils/get-value").default;
const readItems = load("handler/_read-items").default;
const queryHelpers = require(path.join(QUERY_LIB, "helpers"));

const MAX_DOC_BYTES = 2 * 1024 * 1024; // Cosmos item / request size limit
const MAX_BATCH_OPS = 100; // Cosmos transactional batch limit
const MAX_PATCH_OPS = 10; // Cosmos partial update limit

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

const fail = (statusCode, code, message) => ({ statusCode, body: { code, message } });
const badRequest = message => fail(400, "BadRequest", message);
const notFound = () =>
  fail(404, "NotFound", "Entity with the specified id does not exist in the system.");
const conflict = () =>
  fail(409, "Conflict", "Entity with the specified id already exists in the system.");
const preconditionFailed = () =>
  fail(
    412,
    "PreconditionFailed",
    "Operation cannot be performed because one of the specified precondition is not met."
  );
const tooLarge = () => fail(413, "RequestEntityTooLarge", "Request size is too large.");

/** Copy an operation result onto the response and return the body (the handler contract). */
function respond(res, result) {
  res.statusCode = result.statusCode;
  return result.body;
}

const isObject = v => v !== null && typeof v === "object" && !Array.isArray(v);

/** Read the raw body ourselves so we know its byte size (413) and can answer 400 on bad JSON. */
async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const buf = Buffer.concat(chunks);
  if (buf.length > MAX_DOC_BYTES) return { tooLarge: true };
  try {
    return { value: buf.length ? JSON.parse(buf.toString("utf8")) : undefined };
  } catch (err) {
    return { error: `Request body is not valid JSON: ${err.message}` };
  }
}

// ---------------------------------------------------------------------------
// Partition keys
//
// Stock Items keyed partitions by the raw value (`partition || id`), so falsy keys (0, "",
// false, null) silently fell back to the id, 1 and "1" collided, and only the first path of
// a hierarchical key counted. We key a document's partition by the JSON of ALL its key
// values, undefined encoded as {} (what the SDK sends as `[{}]` for "no value").
// ---------------------------------------------------------------------------

const pkComponent = v => (v === undefined || (v !== null && typeof v === "object") ? {} : v);
const pkKey = values => JSON.stringify(values.map(pkComponent));
const pkValuesOf = (documents, doc) =>
  documents._partitionKeyPath.map(p => getValue(p.slice(1).split("/"), doc));

Documents.prototype._getPartition = function getPartition(doc) {
  return pkKey(pkValuesOf(this, doc));
};

/** Parse `x-ms-documentdb-partitionkey` (a JSON array) into { present, values, key } or { error }. */
function headerPk(req) {
  let raw = req.headers["x-ms-documentdb-partitionkey"];
  if (Array.isArray(raw)) [raw] = raw;
  if (raw === undefined || raw === "") return { present: false };
  let values;
  try {
    values = JSON.parse(raw);
  } catch (err) {
    return { error: `Invalid partition key header: ${raw}` };
  }
  if (!Array.isArray(values)) values = [values];
  // `[]` is the SDK's "Empty" key (migrated non-partitioned containers): treat as no key.
  if (values.length === 0) return { present: false };
  return { present: true, values, key: pkKey(values) };
}

/** Does the document belong to the partition (or hierarchical prefix) given in the header? */
function inPartition(documents, doc, values) {
  const docValues = pkValuesOf(documents, doc);
  if (values.length > docValues.length) return false;
  return values.every(
    (v, i) => JSON.stringify(pkComponent(docValues[i])) === JSON.stringify(pkComponent(v))
  );
}

// ---------------------------------------------------------------------------
// TTL (stock server ignored container defaultTtl and item ttl entirely)
//
// Cosmos semantics: container defaultTtl absent/null -> nothing ever expires, item ttl is
// ignored. defaultTtl -1 -> no expiry unless the item sets a positive ttl. defaultTtl N > 0 ->
// items expire N s after their last write unless the item's own ttl overrides it (-1 = never).
// Expired items are purged lazily whenever their container is touched, so reads 404 and
// queries/counts never see them. The exact write time (ms) is remembered because _ts is
// whole seconds.
// ---------------------------------------------------------------------------

const writtenAt = new WeakMap(); // stored document object -> Date.now() at write

Documents.prototype._set = function setDocument(data) {
  // Undo in a batch re-inserts the previous object: keep its original write time.
  if (!writtenAt.has(data)) writtenAt.set(data, Date.now());
  return Items.prototype._set.call(this, data);
};

function effectiveTtl(collectionData, doc) {
  const defaultTtl = collectionData.defaultTtl;
  if (typeof defaultTtl !== "number") return null;
  const ttl = typeof doc.ttl === "number" ? doc.ttl : defaultTtl;
  return ttl > 0 ? ttl : null;
}

function purgeExpired(collection) {
  const collectionData = collection.read();
  if (typeof collectionData.defaultTtl !== "number") return;
  const documents = collection.documents;
  const now = Date.now();
  [...documents._data.values()].forEach(item => {
    const doc = item.read();
    const ttl = doc && effectiveTtl(collectionData, doc);
    if (ttl === null || !doc) return;
    const written = writtenAt.has(doc) ? writtenAt.get(doc) : doc._ts * 1000;
    if (written + ttl * 1000 <= now) documents.delete(doc.id, documents._getPartition(doc));
  });
}

// ---------------------------------------------------------------------------
// Document store access
// ---------------------------------------------------------------------------

/** The collection, with expired items purged, or null when the database/collection is missing. */
function openCollection(account, dbId, collId) {
  const collection = account.database(dbId).collection(collId);
  if (!collection.read()) return null;
  purgeExpired(collection);
  return collection;
}

/** Exact lookup by (id, partition). Stock code fell back to treating an unknown id as a _rid. */
function findDoc(collection, id, key) {
  const documents = collection.documents;
  const rid = documents._index.get(documents._getId("/id", id, key));
  const item = rid === undefined ? undefined : documents._data.get(rid);
  return (item && item.read()) || null;
}

function liveDocs(collection, pk) {
  const documents = collection.documents;
  const all = [...documents._data.values()].map(item => item.read());
  return pk.present ? all.filter(doc => inPartition(documents, doc, pk.values)) : all;
}

function validateDoc(doc) {
  if (!isObject(doc)) return badRequest("The input content is invalid: the item must be a JSON object.");
  if (typeof doc.id !== "string" || doc.id === "") {
    return badRequest("The input content is invalid because the required properties - 'id; ' - are missing");
  }
  return null;
}

const etagMismatch = (ifMatch, doc) => Boolean(ifMatch) && ifMatch !== "*" && ifMatch !== doc._etag;

/** Map errors thrown by the stock Items store to Cosmos status codes. */
function storeError(err) {
  if (err.conflict) return fail(409, "Conflict", err.message);
  if (err.badRequest) return badRequest(err.message);
  throw err;
}

// Restore helpers used to roll back a failed transactional batch.
const undoCreate = (documents, created) => () =>
  documents.delete(created.id, documents._getPartition(created));
const undoReplace = (documents, current, previous) => () => {
  documents.delete(current.id, documents._getPartition(current));
  documents._set(previous);
};
const undoDelete = (documents, previous) => () => documents._set(previous);

// ---------------------------------------------------------------------------
// Document operations, shared by the single-item handlers and the batch handler.
// Each returns { statusCode, body, undo? } and never leaves a half-applied write.
// `key` is the partition key from the request (header), or undefined when absent.
// ---------------------------------------------------------------------------

const ops = {
  create(collection, doc, key) {
    const invalid = validateDoc(doc);
    if (invalid) return invalid;
    const documents = collection.documents;
    if (key !== undefined && documents._getPartition(doc) !== key) {
      return badRequest("PartitionKey extracted from the document doesn't match the one specified in the header.");
    }
    if (findDoc(collection, doc.id, documents._getPartition(doc))) return conflict();
    let body;
    try {
      body = documents.create(doc);
    } catch (err) {
      return storeError(err); // unique-key violations -> 409
    }
    return { statusCode: 201, body, undo: undoCreate(documents, body) };
  },

  replace(collection, id, doc, key, ifMatch) {
    const invalid = validateDoc(doc);
    if (invalid) return invalid;
    if (doc.id !== id) return badRequest("The id in the body does not match the id in the request URI.");
    const documents = collection.documents;
    const docKey = documents._getPartition(doc);
    if (key !== undefined && docKey !== key) {
      return badRequest("PartitionKey extracted from the document doesn't match the one specified in the header.");
    }
    const current = findDoc(collection, id, docKey);
    if (!current) return notFound();
    if (etagMismatch(ifMatch, current)) return preconditionFailed();
    let body;
    try {
      body = documents.replace(doc, current); // new _etag/_ts, keeps _rid
    } catch (err) {
      return storeError(err);
    }
    return { statusCode: 200, body, undo: undoReplace(documents, body, current) };
  },

  upsert(collection, doc, key, ifMatch) {
    const invalid = validateDoc(doc);
    if (invalid) return invalid;
    const current = findDoc(collection, doc.id, collection.documents._getPartition(doc));
    if (!current) return ops.create(collection, doc, key);
    return ops.replace(collection, doc.id, doc, key, ifMatch);
  },

  read(collection, id, key, ifNoneMatch) {
    if (key === undefined) return badRequest("PartitionKey value must be supplied for this operation.");
    const doc = findDoc(collection, id, key);
    if (!doc) return notFound();
    if (ifNoneMatch && (ifNoneMatch === "*" || ifNoneMatch === doc._etag)) {
      return { statusCode: 304, body: undefined };
    }
    return { statusCode: 200, body: doc };
  },

  delete(collection, id, key, ifMatch) {
    if (key === undefined) return badRequest("PartitionKey value must be supplied for this operation.");
    const current = findDoc(collection, id, key);
    if (!current) return notFound();
    if (etagMismatch(ifMatch, current)) return preconditionFailed();
    collection.documents.delete(id, key);
    return { statusCode: 204, body: undefined, undo: undoDelete(collection.documents, current) };
  },

  patch(collection, id, key, spec, ifMatch) {
    if (key === undefined) return badRequest("PartitionKey value must be supplied for this operation.");
    // SDKs send either a bare array of operations or { operations, condition }.
    const operations = Array.isArray(spec) ? spec : spec && spec.operations;
    const condition = Array.isArray(spec) ? undefined : spec && spec.condition;
    if (!Array.isArray(operations) || operations.length === 0) {
      return badRequest("Invalid patch request: check syntax of patch specification.");
    }
    if (operations.length > MAX_PATCH_OPS) {
      return badRequest(`The number of patch operations can't exceed ${MAX_PATCH_OPS}.`);
    }
    const current = findDoc(collection, id, key);
    if (!current) return notFound();
    if (etagMismatch(ifMatch, current)) return preconditionFailed();
    if (condition) {
      let holds;
      try {
        holds = conditionHolds(collection, current, condition);
      } catch (err) {
        return badRequest(`Invalid filter predicate in patch request: ${err.message}`);
      }
      if (!holds) return preconditionFailed();
    }
    let patched;
    try {
      patched = applyPatch(current, operations);
    } catch (err) {
      return badRequest(err.message);
    }
    if (Buffer.byteLength(JSON.stringify(patched)) > MAX_DOC_BYTES) return tooLarge();
    let body;
    try {
      body = collection.documents.replace(patched, current); // rejects id / partition key changes
    } catch (err) {
      return storeError(err);
    }
    return { statusCode: 200, body, undo: undoReplace(collection.documents, body, current) };
  }
};

// ---------------------------------------------------------------------------
// Partial document update (PATCH). The stock implementation existed but lower-cased the
// whole filter predicate (breaking string literals and field names) and evaluated it over the
// entire container instead of the target item; we re-implement it with Cosmos semantics.
// ---------------------------------------------------------------------------

/** Evaluate a filter predicate ("from c where ...", "where ...", or a bare condition) on one doc. */
function conditionHolds(collection, doc, condition) {
  let sql = String(condition).trim();
  if (/^from\s/i.test(sql)) sql = `SELECT * ${sql}`;
  else if (/^where\s/i.test(sql)) sql = `SELECT * FROM c ${sql}`;
  else if (!/^select\s/i.test(sql)) sql = `SELECT * FROM c WHERE ${sql}`;
  return collection.documents._getQuery(sql).exec([doc], {}).result.length > 0;
}

const arrayIndex = seg => (/^(0|[1-9]\d*)$/.test(seg) ? Number(seg) : null);

function pointer(p, what = "path") {
  if (typeof p !== "string" || !p.startsWith("/") || p === "/") throw new Error(`Invalid ${what} '${p}'.`);
  return p
    .slice(1)
    .split("/")
    .map(s => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Resolve the parent container of a JSON pointer; Cosmos never creates missing parents. */
function parentOf(root, segs, p) {
  let node = root;
  for (const seg of segs.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(seg)];
    else if (isObject(node) && Object.prototype.hasOwnProperty.call(node, seg)) node = node[seg];
    else node = undefined;
  }
  if (node === null || typeof node !== "object") {
    throw new Error(`The parent of path '${p}' does not exist.`);
  }
  return { parent: node, key: segs[segs.length - 1] };
}

function readAt(parent, key) {
  if (Array.isArray(parent)) {
    const i = arrayIndex(key);
    return i !== null && i < parent.length ? { exists: true, value: parent[i] } : { exists: false };
  }
  return Object.prototype.hasOwnProperty.call(parent, key)
    ? { exists: true, value: parent[key] }
    : { exists: false };
}

function checkedIndex(parent, key, allowEnd) {
  const i = key === "-" && allowEnd ? parent.length : arrayIndex(key);
  if (i === null || i > parent.length || (!allowEnd && i === parent.length)) {
    throw new Error("Index to operate on is out of array bounds.");
  }
  return i;
}

const SYSTEM_PROPERTIES = new Set(["_rid", "_self", "_etag", "_ts", "_attachments"]);

function applyOne(doc, op) {
  const p = op && op.path;
  const segs = pointer(p);
  if (SYSTEM_PROPERTIES.has(segs[0])) throw new Error(`Can't patch system property ${segs[0]}.`);
  switch (op.op) {
    case "add": {
      const { parent, key } = parentOf(doc, segs, p);
      if (Array.isArray(parent)) parent.splice(checkedIndex(parent, key, true), 0, op.value);
      else parent[key] = op.value;
      return;
    }
    case "set": {
      const { parent, key } = parentOf(doc, segs, p);
      if (Array.isArray(parent)) parent[checkedIndex(parent, key, true)] = op.value;
      else parent[key] = op.value;
      return;
    }
    case "replace": {
      const { parent, key } = parentOf(doc, segs, p);
      if (!readAt(parent, key).exists) throw new Error(`Node '${p}' to be replaced is absent.`);
      parent[Array.isArray(parent) ? arrayIndex(key) : key] = op.value;
      return;
    }
    case "remove": {
      const { parent, key } = parentOf(doc, segs, p);
      if (!readAt(parent, key).exists) throw new Error(`Node '${p}' to be removed is absent.`);
      if (Array.isArray(parent)) parent.splice(arrayIndex(key), 1);
      else delete parent[key];
      return;
    }
    case "incr": {
      if (typeof op.value !== "number") throw new Error("Increment value must be a number.");
      const { parent, key } = parentOf(doc, segs, p);
      const cur = readAt(parent, key);
      if (cur.exists && typeof cur.value !== "number") {
        throw new Error(`Node '${p}' is not a number and cannot be incremented.`);
      }
      const next = cur.exists ? cur.value + op.value : op.value;
      if (Array.isArray(parent)) parent[checkedIndex(parent, key, true)] = next;
      else parent[key] = next;
      return;
    }
    case "move": {
      const fromSegs = pointer(op.from, "from");
      if (SYSTEM_PROPERTIES.has(fromSegs[0])) throw new Error(`Can't move system property ${fromSegs[0]}.`);
      if (`${p}/`.startsWith(`${op.from}/`)) throw new Error("Cannot move a value into itself.");
      const src = parentOf(doc, fromSegs, op.from);
      const cur = readAt(src.parent, src.key);
      if (!cur.exists) throw new Error(`Node '${op.from}' to be moved is absent.`);
      applyOne(doc, { op: "remove", path: op.from });
      applyOne(doc, { op: "add", path: p, value: cur.value });
      return;
    }
    default:
      throw new Error(`Unsupported patch operation '${op && op.op}'.`);
  }
}

function applyPatch(doc, operations) {
  const out = structuredClone(doc);
  operations.forEach((op, i) => {
    try {
      applyOne(out, op);
    } catch (err) {
      throw new Error(`For Operation(${i}): ${err.message}`);
    }
  });
  return out;
}

// ---------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------

function runQuery(collection, docs, body, { continuation, maxItemCount }, res) {
  const documents = collection.documents;
  try {
    return documents._getQuery(body.query).exec(docs, {
      parameters: body.parameters,
      udf: documents._userDefinedFunctions(),
      maxItemCount,
      continuation,
      compositeIndexes: (collection.read().indexingPolicy || {}).compositeIndexes || []
    });
  } catch (err) {
    res.statusCode = 400; // syntax / unsupported-feature / missing composite index
    return { code: "BadRequest", message: err.message };
  }
}

// `=` and `!=` across JSON types (1 vs true, "1" vs 1, null vs anything else) are undefined
// in Cosmos, so no WHERE matches either; stock said false and true, so `c.flag != true`
// matched items whose flag was 1, null or a string. The stock notEqual negates
// `exports.equal`, so it follows this one.
const stockEqual = queryHelpers.equal;
const jsonType = v => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
queryHelpers.equal = (a, b) => (jsonType(a) === jsonType(b) ? stockEqual(a, b) : undefined);

// Multi-field ORDER BY needs a composite index, as in real Cosmos. The stock check only
// accepted an index with the exact same directions and raw paths; Cosmos also serves the
// fully reversed order from the same index, and index paths may be quoted (/"some-field").
const stockSort = queryHelpers.sort;
const indexPath = p => String(p).replace(/\/\?$/, "").replace(/"/g, "");
const isDescending = ix => String(ix.order || "ascending").toLowerCase() === "descending";
function hasCompositeIndex(compositeIndexes, orders) {
  const wanted = orders.map(([keys, desc]) => [`/${keys.slice(1).join("/")}`, desc]);
  const matches = (index, flip) =>
    index.every((ix, i) => indexPath(ix.path) === wanted[i][0] && isDescending(ix) === (wanted[i][1] !== flip));
  return compositeIndexes.some(
    index => index.length === wanted.length && (matches(index, false) || matches(index, true))
  );
}
queryHelpers.sort = (collection, getRid, compositeIndexes, ...orders) => {
  if (orders.length > 1 && Array.isArray(compositeIndexes)) {
    if (!hasCompositeIndex(compositeIndexes, orders)) {
      throw new Error(
        "The order by query does not have a corresponding composite index that it can be served from."
      );
    }
    return stockSort(collection, getRid, null, ...orders);
  }
  return stockSort(collection, getRid, compositeIndexes, ...orders);
};

// ---------------------------------------------------------------------------
// Handler overrides (installed before lib/index.js builds its routing table)
// ---------------------------------------------------------------------------

function override(name, handler) {
  load(`handler/${name}`).default = handler;
}

/** Common prologue of single-document handlers: collection + partition key header. */
function documentContext(account, req, { dbId, collId }) {
  const collection = openCollection(account, dbId, collId);
  if (!collection) return { error: notFound() };
  const pk = headerPk(req);
  if (pk.error) return { error: badRequest(pk.error) };
  return { collection, key: pk.key };
}

async function bodyContext(account, req, params) {
  const body = await readBody(req);
  const ctx = documentContext(account, req, params);
  if (ctx.error) return ctx;
  // Items over 2 MB must be rejected like Cosmos does (413), not stored.
  if (body.tooLarge) return { error: tooLarge() };
  if (body.error) return { error: badRequest(body.error) };
  return { ...ctx, body: body.value };
}

// Account metadata advertised https:// endpoints; the SDK must talk plain http to us.
let advertisedEndpoint = null;
override("read-meta", (account, req) => {
  const meta = account.read();
  const endpoint = req.headers.host ? `http://${req.headers.host}/` : advertisedEndpoint;
  const location = loc => ({ ...loc, databaseAccountEndpoint: endpoint });
  return {
    ...meta,
    writableLocations: meta.writableLocations.map(location),
    readableLocations: meta.readableLocations.map(location)
  };
});

// Create: stock crashed (500) on a missing collection and ignored size limits.
override("create-document", async (account, req, res, params) => {
  const ctx = await bodyContext(account, req, params);
  if (ctx.error) return respond(res, ctx.error);
  return respond(res, ops.create(ctx.collection, ctx.body, ctx.key));
});

override("upsert-document", async (account, req, res, params) => {
  const ctx = await bodyContext(account, req, params);
  if (ctx.error) return respond(res, ctx.error);
  return respond(res, ops.upsert(ctx.collection, ctx.body, ctx.key, req.headers["if-match"]));
});

override("replace-document", async (account, req, res, params) => {
  const ctx = await bodyContext(account, req, params);
  if (ctx.error) return respond(res, ctx.error);
  return respond(
    res,
    ops.replace(ctx.collection, params.docId, ctx.body, ctx.key, req.headers["if-match"])
  );
});

// Read: stock dereferenced the missing document (500 instead of 404) and compared only
// top-level partition key fields.
override("read-document", (account, req, res, params) => {
  const ctx = documentContext(account, req, params);
  if (ctx.error) return respond(res, ctx.error);
  return respond(res, ops.read(ctx.collection, params.docId, ctx.key, req.headers["if-none-match"]));
});

override("delete-document", (account, req, res, params) => {
  const ctx = documentContext(account, req, params);
  if (ctx.error) return respond(res, ctx.error);
  return respond(res, ops.delete(ctx.collection, params.docId, ctx.key, req.headers["if-match"]));
});

override("patch-document", async (account, req, res, params) => {
  const ctx = await bodyContext(account, req, params);
  if (ctx.error) return respond(res, ctx.error);
  return respond(
    res,
    ops.patch(ctx.collection, params.docId, ctx.key, ctx.body, req.headers["if-match"])
  );
});

// Queries: stock ignored the partition key header (cross-partition results and counts) and
// rejected partition-scoped queries whose WHERE clause lacked the key ("missing partition keys").
override("query-documents", (account, req, res, { dbId, collId }) =>
  readItems(req, res, "Documents", async paging => {
    const body = await readBody(req);
    if (body.tooLarge) return respond(res, tooLarge());
    if (body.error || !isObject(body.value) || typeof body.value.query !== "string") {
      return respond(res, badRequest(body.error || "missing query"));
    }
    const collection = openCollection(account, dbId, collId);
    if (!collection) return null; // -> 404
    const pk = headerPk(req);
    if (pk.error) return respond(res, badRequest(pk.error));
    return runQuery(collection, liveDocs(collection, pk), body.value, paging, res);
  })
);

// Read feed (read_all_items): same partition scoping and TTL filtering as queries.
override("read-documents", (account, req, res, { dbId, collId }) =>
  readItems(req, res, "Documents", async paging => {
    const collection = openCollection(account, dbId, collId);
    if (!collection) return null;
    const pk = headerPk(req);
    if (pk.error) return respond(res, badRequest(pk.error));
    return runQuery(collection, liveDocs(collection, pk), { query: "SELECT * FROM c" }, paging, res);
  })
);

// Transactional batch: stock needed a per-operation partition key (the Python SDK sends only
// the request header, so everything but Create failed), had no Patch, and never rolled back.
// Cosmos semantics: all-or-nothing; on failure HTTP 207 with the failing operation's status and
// 424 for every other operation, which makes the Python SDK raise CosmosBatchOperationError.
override("batch-documents", async (account, req, res, params) => {
  const body = await readBody(req);
  const collection = openCollection(account, params.dbId, params.collId);
  if (!collection) return respond(res, notFound());
  if (body.tooLarge) return respond(res, tooLarge());
  if (body.error || !Array.isArray(body.value)) return respond(res, badRequest(body.error || "Invalid batch request body."));
  const operations = body.value;
  if (operations.length === 0 || operations.length > MAX_BATCH_OPS) {
    return respond(res, badRequest(`A transactional batch must contain 1 to ${MAX_BATCH_OPS} operations.`));
  }
  const pk = headerPk(req);
  if (pk.error) return respond(res, badRequest(pk.error));

  const results = [];
  let failedAt = -1;
  for (let i = 0; i < operations.length; i += 1) {
    const op = isObject(operations[i]) ? operations[i] : {};
    let key = pk.key;
    if (key === undefined && op.partitionKey !== undefined) {
      key = headerPk({ headers: { "x-ms-documentdb-partitionkey": op.partitionKey } }).key;
    }
    let result;
    switch (String(op.operationType || "").toLowerCase()) {
      case "create":
        result = ops.create(collection, op.resourceBody, key);
        break;
      case "upsert":
        result = ops.upsert(collection, op.resourceBody, key, op.ifMatch);
        break;
      case "replace":
        result = ops.replace(collection, op.id, op.resourceBody, key, op.ifMatch);
        break;
      case "read":
        result = ops.read(collection, op.id, key, op.ifNoneMatch);
        break;
      case "delete":
        result = ops.delete(collection, op.id, key, op.ifMatch);
        break;
      case "patch":
        result = ops.patch(collection, op.id, key, op.resourceBody, op.ifMatch);
        break;
      default:
        result = badRequest(`Operation type '${op.operationType}' is not supported in a batch.`);
    }
    results.push(result);
    if (result.statusCode >= 400) {
      failedAt = i;
      break;
    }
  }

  if (failedAt >= 0) {
    for (let i = results.length - 1; i >= 0; i -= 1) if (results[i].undo) results[i].undo();
    res.statusCode = 207;
    return operations.map((_, i) =>
      i === failedAt
        ? { statusCode: results[i].statusCode, requestCharge: 1, ...(results[i].body || {}) }
        : { statusCode: 424, requestCharge: 0 }
    );
  }
  res.statusCode = 200;
  return results.map(r => ({
    statusCode: r.statusCode,
    requestCharge: 1,
    ...(r.body ? { eTag: r.body._etag, resourceBody: r.body } : {})
  }));
});

// replace_container: stock Items.replace() built a brand-new Collection object, i.e. a new
// empty document store, so every item was lost. Keep the existing Collection (and its stores)
// and only swap in the new properties (indexing policy, defaultTtl, ...).
override("replace-collection", async (account, req, res, { dbId, collId }) => {
  const body = await readBody(req);
  if (body.tooLarge) return respond(res, tooLarge());
  if (body.error || !isObject(body.value)) return respond(res, badRequest(body.error || "Invalid body."));
  const database = account.database(dbId);
  const collection = database.collection(collId);
  const current = collection.read();
  if (!current) return respond(res, notFound());
  const next = body.value;
  if (next.id !== current.id) return respond(res, badRequest("Renaming a container is not supported."));
  const paths = pkDef => JSON.stringify(((pkDef || {}).paths) || []);
  if (next.partitionKey && paths(next.partitionKey) !== paths(current.partitionKey)) {
    return respond(res, badRequest("Replacing the partition key of a container is not allowed."));
  }
  let updated;
  try {
    updated = database.collections.replace({ ...next, partitionKey: current.partitionKey }, current);
  } catch (err) {
    return respond(res, storeError(err));
  }
  const rebuilt = database.collections._data.get(updated._rid);
  collection._data = rebuilt.read();
  database.collections._data.set(updated._rid, collection);
  return updated;
});

// ---------------------------------------------------------------------------
// Fault injection (TEST-ONLY, see the file header). Wraps the server's request handler.
// ---------------------------------------------------------------------------

const FAULTS = {
  429: {
    substatus: 3200, // RU budget exceeded
    code: "TooManyRequests",
    message: "Request rate is large. More Request Units may be needed, so no changes were made."
  },
  503: {
    substatus: 21008, // server-generated 503 (>= 21001: transient service condition)
    code: "ServiceUnavailable",
    message: "Service is currently unavailable. Please retry this request later."
  }
};
const DOCS_URL = /^\/+dbs\/([^/]+)\/colls\/([^/]+)\/docs(\/[^/]+)?\/*$/;
const FAULT_MATCHES = {
  read: (req, hasId) => req.method === "GET" && hasId,
  query: (req, hasId) =>
    req.method === "POST" && !hasId &&
    (/^true$/i.test(req.headers["x-ms-documentdb-isquery"] || "") ||
      req.headers["content-type"] === "application/query+json"),
  any: () => true
};
let faultRule = null; // { status, remaining, retry_after_ms, substatus, match, collection, injected }

function sendJson(res, statusCode, body, headers = {}) {
  res.writeHead(statusCode, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function faultControl(req, res) {
  if (req.method === "DELETE") faultRule = null;
  else if (req.method === "POST") {
    const { value: spec, error } = await readBody(req);
    const match = (spec && spec.match) || "any";
    if (error || !isObject(spec) || !FAULTS[spec.status] || !FAULT_MATCHES[match]) {
      const usage = 'expected {"status": 429|503, "count", "retry_after_ms", "match": "read"|"query"|"any"}';
      return sendJson(res, 400, { message: error || usage });
    }
    faultRule = {
      status: spec.status,
      remaining: Number.isInteger(spec.count) ? spec.count : 1,
      retry_after_ms: Number.isInteger(spec.retry_after_ms) ? spec.retry_after_ms : 5,
      substatus: Number.isInteger(spec.substatus) ? spec.substatus : FAULTS[spec.status].substatus,
      match,
      collection: spec.collection || null,
      injected: 0
    };
  } else if (req.method !== "GET") return sendJson(res, 405, { message: "GET, POST or DELETE" });
  return sendJson(res, 200, { fault: faultRule });
}

/** Answer the request with the active fault if it matches; true when it did. */
function injectFault(req, res) {
  const docs = faultRule && faultRule.remaining > 0 && DOCS_URL.exec(req.url.split("?")[0]);
  if (!docs) return false;
  if (faultRule.collection && decodeURIComponent(docs[2]) !== faultRule.collection) return false;
  if (!FAULT_MATCHES[faultRule.match](req, Boolean(docs[3]))) return false;
  faultRule.remaining -= 1;
  faultRule.injected += 1;
  const { code, message } = FAULTS[faultRule.status];
  const headers = {
    "x-ms-substatus": String(faultRule.substatus),
    "x-ms-activity-id": randomUUID(),
    "x-ms-request-charge": "0"
  };
  if (faultRule.status === 429) headers["x-ms-retry-after-ms"] = String(faultRule.retry_after_ms);
  req.resume(); // discard any request body, keep the connection usable
  sendJson(res, faultRule.status, { code, message }, headers);
  return true;
}

function installFaultInjection(server) {
  const handlers = server.listeners("request");
  server.removeAllListeners("request");
  server.on("request", (req, res) => {
    if (req.url.split("?")[0] === "/_faults") return void faultControl(req, res);
    if (injectFault(req, res)) return;
    handlers.forEach(handler => handler.call(server, req, res));
  });
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

function parseArgs(argv) {
  const args = { host: "127.0.0.1", port: 8081 };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    if (flag === "--host") args.host = argv[++i];
    else if (flag === "--port" || flag === "-p") args.port = Number(argv[++i]);
    else if (flag === "--help" || flag === "-h") args.help = true;
    else throw new Error(`Unknown argument: ${flag}`);
  }
  if (!args.host || !Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
    throw new Error("Usage: cosmos_emulator.js [--host 127.0.0.1] [--port 8081]");
  }
  return args;
}

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write("Usage: node cosmos_emulator.js [--host 127.0.0.1] [--port 8081]\n");
    return;
  }

  // Loaded only now, after every override above: routes.js snapshots the handlers.
  const { createHttpServer } = load("index");
  // keepAlive: the stock default answers `connection: close`, costing a TCP handshake per call.
  const server = createHttpServer({ keepAlive: true });
  server.keepAliveTimeout = 65000; // outlive typical client pool idle times
  installFaultInjection(server);

  if (process.env.COSMOS_EMULATOR_LOG) {
    server.prependListener("request", (req, res) => {
      const start = Date.now();
      res.on("finish", () =>
        process.stderr.write(`${req.method} ${req.url} -> ${res.statusCode} (${Date.now() - start} ms)\n`)
      );
    });
  }

  server.on("error", err => {
    process.stderr.write(`cosmos-emulator: ${err.message}\n`);
    process.exit(1);
  });

  server.listen(args.port, args.host, () => {
    const { port } = server.address();
    const host = args.host.includes(":") ? `[${args.host}]` : args.host;
    advertisedEndpoint = `http://${host}:${port}/`;
    process.stdout.write(`cosmos-emulator ready http://${host}:${port}\n`);
  });

  const shutdown = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main();
