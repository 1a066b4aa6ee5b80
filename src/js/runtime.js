// duro's JavaScript side of the Durable Object bindings, evaluated once per shard isolate as the
// internal module "duro:runtime". It defines what Worker code sees beyond the Web APIs:
// `cloudflare:workers` (DurableObject, WorkerEntrypoint, RpcTarget), the `env` namespace bindings
// (DurableObjectNamespace, DurableObjectId, stubs with fetch and RPC), and an object's `ctx`
// (DurableObjectState) with its `storage`. Everything stateful lives in C++ behind `native`
// (src/js/natives.cc); objects here hold only numbers and strings (a namespace index, an object
// handle, an ID in hex), so nothing in C++ has to track the lifetime of a JS object.

let native;
let web;  // the Web API bundle's exports (makeRequest, requestParts, ...)

export function init(nativeFunctions, webExports) {
  native = nativeFunctions;
  web = webExports;
}

// ---- cloudflare:workers ------------------------------------------------------------------------

export class DurableObject {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

export class WorkerEntrypoint {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

export class RpcTarget {}

// Whether `cls` is a class that extends DurableObject (RPC is allowed only on those).
export function extendsDurableObject(cls) {
  return typeof cls === "function" && cls.prototype instanceof DurableObject;
}

export function extendsWorkerEntrypoint(cls) {
  return typeof cls === "function" && cls.prototype instanceof WorkerEntrypoint;
}

// ---- IDs, namespaces and stubs -----------------------------------------------------------------

// Internal state lives in symbol-keyed properties (plain assignments: cheap, and invisible to
// JSON.stringify and Object.keys). Constructors take kToken so that user code cannot forge an ID
// through `id.constructor` (stub calls trust the IDs they are given: see natives.cc).
const kNs = Symbol("namespace");
const kHex = Symbol("id");
const kName = Symbol("name");
const kToken = Symbol("token");

export class DurableObjectId {
  constructor(token, ns, hex, name) {
    if (token !== kToken) throw new TypeError("Illegal constructor");
    this[kNs] = ns;
    this[kHex] = hex;
    this[kName] = name;
    // An own, enumerable property as in workerd: JSON.stringify(id) is {"name":...} or {}.
    if (name !== undefined) this.name = name;
  }
  toString() {
    return this[kHex];
  }
  equals(other) {
    return other instanceof DurableObjectId && other[kHex] === this[kHex];
  }
}

const kNameCache = Symbol("nameCache");
const kNameCacheLimit = 4096;

export class DurableObjectNamespace {
  constructor(token, ns) {
    if (token !== kToken) throw new TypeError("Illegal constructor");
    this[kNs] = ns;
    // idFromName is a keyed hash: names seen recently are remembered (bounded).
    this[kNameCache] = new Map();
  }
  idFromName(name) {
    name = String(name);
    const cache = this[kNameCache];
    let hex = cache.get(name);
    if (hex === undefined) {
      hex = native.idFromName(this[kNs], name);
      if (cache.size >= kNameCacheLimit) cache.clear();
      cache.set(name, hex);
    }
    return new DurableObjectId(kToken, this[kNs], hex, name);
  }
  newUniqueId(options) {
    return new DurableObjectId(kToken, this[kNs], native.newUniqueId(this[kNs]), undefined);
  }
  idFromString(text) {
    return new DurableObjectId(kToken, this[kNs], native.idFromString(this[kNs], String(text)),
                               undefined);
  }
  get(id, options) {
    if (!(id instanceof DurableObjectId)) {
      throw new TypeError(
        "Failed to execute 'get' on 'DurableObjectNamespace': parameter 1 is not of type " +
          "'DurableObjectId'.");
    }
    if (id[kNs] !== this[kNs]) {
      throw new TypeError("Durable Object ID is not valid for this namespace.");
    }
    return new Proxy(new DurableObjectStub(kToken, this[kNs], id), stubHandler);
  }
  getByName(name, options) {
    return this.get(this.idFromName(name), options);
  }
  jurisdiction(name) {
    return this;
  }
}

class DurableObjectStub {
  constructor(token, ns, id) {
    if (token !== kToken) throw new TypeError("Illegal constructor");
    this[kNs] = ns;
    this[kHex] = id[kHex];
    this[kName] = id[kName];
    this.id = id;
    this.name = id[kName];
  }
  fetch(input, init) {
    let request;
    try {
      request = init === undefined && web.isRequest(input) ? input : web.toRequest(input, init);
    } catch (e) {
      return Promise.reject(e);
    }
    return stubFetch(this, request);
  }
}

async function stubFetch(stub, request) {
  const [method, url, headers, bodyOrPromise] = web.requestParts(request);
  const body = await bodyOrPromise;
  const [status, statusText, responseHeaders, responseBody, socketId] =
      await native.stubFetch(stub[kNs], stub[kHex], stub[kName], method, url, headers, body);
  if (socketId !== undefined) {
    // The object accepted a WebSocket: this Response carries its client end.
    return new Response(null, {
      status, statusText, headers: pairsToHeaders(responseHeaders), webSocket: clientEnd(socketId),
    });
  }
  return web.makeResponse(status, statusText, responseHeaders, responseBody);
}

function pairsToHeaders(flat) {
  const headers = new Headers();
  for (let i = 0; i + 1 < flat.length; i += 2) headers.append(flat[i], flat[i + 1]);
  return headers;
}

// Every property a stub does not have is an RPC method. `then` must stay undefined (a stub is not
// a thenable: `await stub` would otherwise call a remote method named "then").
const stubHandler = {
  get(target, prop) {
    if (typeof prop === "symbol" || prop in target) return target[prop];
    if (prop === "then") return undefined;
    return rpcProperty(target, prop);
  },
};

// `stub.name(...)` calls the remote method; `await stub.name` reads the remote property.
function rpcProperty(target, prop) {
  const method = (...args) =>
    native.callMethod(target[kNs], target[kHex], target[kName], prop, args);
  method.then = (resolve, reject) =>
    native.callMethod(target[kNs], target[kHex], target[kName], prop, undefined)
        .then(resolve, reject);
  return method;
}


// ---- WebSockets --------------------------------------------------------------------------------
// A WebSocket object holds only an id; the socket itself is C++ (runtime/object_socket.h). The
// server end of a pair is used by the object; the client end only travels in a 101 Response.

const kSocketId = Symbol("socketId");
const kClientEnd = Symbol("clientEnd");
const kBinaryType = Symbol("binaryType");
const sockets = new Map();  // id -> WebSocket (server ends), until their last event

// Compatibility-date behaviour (set by init from the Worker's compatibility date and flags).
let binaryTypeDefault = "blob";  // "arraybuffer" before 2026-03-17

export function setCompatibility(options) {
  binaryTypeDefault = options.binaryTypeBlob ? "blob" : "arraybuffer";
}

const utf8 = new TextEncoder();

// The close codes an application may send (workerd's rule).
function validCloseCode(code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 1016 && code <= 4999);
}

export class MessageEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    this.data = init.data;
  }
}

export class CloseEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? "";
    this.wasClean = init.wasClean ?? false;
  }
}

export class ErrorEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    this.message = init.message ?? "";
    this.error = init.error;
  }
}

export class WebSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;

  constructor(token, id, clientEnd) {
    if (token !== kToken) throw new TypeError("Illegal constructor");
    super();
    this[kSocketId] = id;
    this[kClientEnd] = clientEnd;
    this[kBinaryType] = binaryTypeDefault;
  }
  get binaryType() {
    return this[kBinaryType];
  }
  set binaryType(value) {
    if (value === "blob" || value === "arraybuffer") this[kBinaryType] = value;
  }
  accept() {
    if (this[kClientEnd]) throw new TypeError("The client end of a WebSocketPair cannot be accepted here.");
    native.wsAccept(this[kSocketId]);
  }
  send(message) {
    if (this[kClientEnd]) throw new TypeError("The client end of a WebSocketPair cannot send here.");
    if (typeof message !== "string" && !(message instanceof ArrayBuffer) && !ArrayBuffer.isView(message)) {
      message = String(message);
    }
    native.wsSend(this[kSocketId], message);
  }
  close(code, reason) {
    if (this[kClientEnd]) return;
    if (code !== undefined) {
      code = Number(code);
      if (!validCloseCode(code)) {
        throw new DOMException(`Invalid WebSocket close code: ${code}.`, "InvalidAccessError");
      }
    } else if (reason !== undefined) {
      throw new DOMException("If you specify a WebSocket close reason, you must also specify a code.",
                             "InvalidAccessError");
    }
    if (reason !== undefined) {
      reason = String(reason);
      if (utf8.encode(reason).byteLength > 123) {
        throw new DOMException("WebSocket close reason must not be longer than 123 bytes when UTF-8 encoded.",
                               "SyntaxError");
      }
    }
    native.wsClose(this[kSocketId], code, reason);
  }
  get readyState() {
    return this[kClientEnd] ? WebSocket.OPEN : native.wsState(this[kSocketId]);
  }
  get url() {
    return null;
  }
  get protocol() {
    return "";
  }
  get extensions() {
    return "";
  }
  serializeAttachment(value) {
    native.wsSetAttachment(this[kSocketId], value);
  }
  deserializeAttachment() {
    return native.wsGetAttachment(this[kSocketId]);
  }
}
for (const [name, value] of [["CONNECTING", 0], ["OPEN", 1], ["CLOSING", 2], ["CLOSED", 3]]) {
  Object.defineProperty(WebSocket.prototype, name, { value });
}

function serverEnd(id) {
  let socket = sockets.get(id);
  if (socket === undefined) {
    socket = new WebSocket(kToken, id, false);
    sockets.set(id, socket);
  }
  return socket;
}

function clientEnd(id) {
  return new WebSocket(kToken, id, true);
}

export class WebSocketPair {
  constructor() {
    const [clientId, serverId] = native.wsPair();
    this[0] = clientEnd(clientId);
    this[1] = serverEnd(serverId);
  }
}

// For C++: the id of a WebSocket found in a Response (undefined if it is not one of ours).
export function socketIdOf(socket) {
  return socket instanceof WebSocket ? socket[kSocketId] : undefined;
}

// For C++: delivers a socket event to an object. Hibernatable sockets go to the class's handler
// methods; sockets accepted with accept() to their event listeners.
export function deliverSocketEvent(instance, id, hibernatable, kind, a, b, c) {
  const socket = serverEnd(id);
  // A close, or a protocol error (which no close follows), is the socket's last event.
  if (kind !== "message") sockets.delete(id);
  if (hibernatable) {
    if (kind === "message") return instance.webSocketMessage?.(socket, a);
    if (kind === "close") return instance.webSocketClose?.(socket, a, b, c);
    return instance.webSocketError?.(socket, new Error(a));
  }
  if (kind === "message") {
    const data = typeof a !== "string" && socket[kBinaryType] === "blob" ? new Blob([a]) : a;
    socket.dispatchEvent(new MessageEvent("message", { data }));
  } else if (kind === "close") {
    socket.dispatchEvent(new CloseEvent("close", { code: a, reason: b, wasClean: c }));
  } else {
    socket.dispatchEvent(new ErrorEvent("error", { message: a, error: new Error(a) }));
  }
}

export class WebSocketRequestResponsePair {
  #request;
  #response;
  constructor(request, response) {
    if (typeof request !== "string") {
      throw new TypeError("Failed to construct 'WebSocketRequestResponsePair': constructor parameter 1 is not of type 'string'.");
    }
    if (typeof response !== "string") {
      throw new TypeError("Failed to construct 'WebSocketRequestResponsePair': constructor parameter 2 is not of type 'string'.");
    }
    this.#request = request;
    this.#response = response;
  }
  get request() {
    return this.#request;
  }
  get response() {
    return this.#response;
  }
}

// ---- ctx and storage ---------------------------------------------------------------------------

const kHandle = Symbol("handle");

// Calls a native storage function: synchronous errors become rejections and plain results
// resolved promises, as for every promise-returning Workers API.
function call(fn, ...args) {
  try {
    return Promise.resolve(fn(...args));
  } catch (e) {
    return Promise.reject(e);
  }
}

export class DurableObjectStorage {
  constructor(handle) {
    this[kHandle] = handle;
  }
  get(keys, options) {
    return call(native.storageGet, this[kHandle], keys, options);
  }
  put(keyOrEntries, value, options) {
    return call(native.storagePut, this[kHandle], keyOrEntries, value, options, arguments.length);
  }
  delete(keys, options) {
    return call(native.storageDelete, this[kHandle], keys, options);
  }
  list(options) {
    return call(native.storageList, this[kHandle], options);
  }
  deleteAll(options) {
    return call(native.storageDeleteAll, this[kHandle], options);
  }
  transaction(closure) {
    if (typeof closure !== "function") {
      return Promise.reject(new TypeError("transaction() requires a function"));
    }
    return call(native.storageTransaction, this[kHandle], (txnHandle) =>
      closure(new DurableObjectTransaction(txnHandle)));
  }
  sync() {
    return call(native.storageSync, this[kHandle]);
  }
  getAlarm(options) {
    return call(native.storageGetAlarm, this[kHandle], options);
  }
  setAlarm(scheduledTime, options) {
    const time = scheduledTime instanceof Date ? scheduledTime.getTime() : scheduledTime;
    return call(native.storageSetAlarm, this[kHandle], time, options);
  }
  deleteAlarm(options) {
    return call(native.storageDeleteAlarm, this[kHandle], options);
  }
  transactionSync(closure) {
    if (typeof closure !== "function") {
      throw new TypeError(
        "Failed to execute 'transactionSync' on 'DurableObjectStorage': parameter 1 is not of type 'function'.");
    }
    return native.storageTransactionSync(this[kHandle], closure);
  }
  get sql() {
    return this[kSql] ?? (this[kSql] = new SqlStorage(this[kHandle]));
  }
  get kv() {
    return this[kKv] ?? (this[kKv] = new SyncKvStorage(this[kHandle]));
  }
}

// ---- SQL (SQLite-backed objects) ------------------------------------------------------------------
// exec() runs the statements at once and hands over every row of the last one; the cursor walks
// them (the row objects are made as they are read).

const kSql = Symbol("sql");
const kKv = Symbol("kv");

export class SqlStorage {
  constructor(handle) {
    this[kHandle] = handle;
  }
  exec(query, ...bindings) {
    if (arguments.length === 0 || query === undefined) {
      throw new TypeError("Failed to execute 'exec' on 'SqlStorage': parameter 1 is not of type 'String'.");
    }
    const [names, rows, rowsRead, rowsWritten] = native.sqlExec(this[kHandle], `${query}`, bindings);
    return new Cursor(names, rows, rowsRead, rowsWritten);
  }
  get databaseSize() {
    return native.sqlDatabaseSize(this[kHandle]);
  }
  get Cursor() {
    return Cursor;
  }
  get [Symbol.toStringTag]() {
    return "SqlStorage";
  }
}

class RawIterator {
  #cursor;
  constructor(cursor) {
    this.#cursor = cursor;
  }
  next() {
    return this.#cursor.nextRaw();
  }
  toArray() {
    const out = [];
    for (let r = this.next(); !r.done; r = this.next()) out.push(r.value);
    return out;
  }
  [Symbol.iterator]() {
    return this;
  }
  get [Symbol.toStringTag]() {
    return "RawIterator";
  }
}

export class Cursor {
  #names;
  #rows;
  #next = 0;
  #rowsRead;
  #rowsWritten;
  constructor(names, rows, rowsRead, rowsWritten) {
    this.#names = names;
    this.#rows = rows;
    this.#rowsRead = rowsRead;
    this.#rowsWritten = rowsWritten;
  }
  #object(raw) {
    const names = this.#names;
    const row = {};
    for (let i = 0; i < names.length; i++) row[names[i]] = raw[i];
    return row;
  }
  nextRaw() {
    if (this.#next < this.#rows.length) return { done: false, value: this.#rows[this.#next++] };
    return { done: true, value: undefined };
  }
  next() {
    if (this.#next < this.#rows.length) {
      return { done: false, value: this.#object(this.#rows[this.#next++]) };
    }
    return { done: true, value: undefined };
  }
  toArray() {
    const out = [];
    while (this.#next < this.#rows.length) out.push(this.#object(this.#rows[this.#next++]));
    return out;
  }
  one() {
    const left = this.#rows.length - this.#next;
    if (left === 0) throw new Error("Expected exactly one result from SQL query, but got no results.");
    if (left > 1) throw new Error("Expected exactly one result from SQL query, but got multiple results.");
    return this.#object(this.#rows[this.#next++]);
  }
  raw() {
    return new RawIterator(this);
  }
  get columnNames() {
    return this.#names;
  }
  get rowsRead() {
    return this.#rowsRead;
  }
  get rowsWritten() {
    return this.#rowsWritten;
  }
  [Symbol.iterator]() {
    return { next: () => this.next(), [Symbol.iterator]() { return this; } };
  }
  get [Symbol.toStringTag]() {
    return "Cursor";
  }
}

class ListIterator {
  #entries;
  #next = 0;
  constructor(entries) {
    this.#entries = entries;
  }
  next() {
    if (this.#next < this.#entries.length) return { done: false, value: this.#entries[this.#next++] };
    return { done: true, value: undefined };
  }
  [Symbol.iterator]() {
    return this;
  }
  get [Symbol.toStringTag]() {
    return "ListIterator";
  }
}

export class SyncKvStorage {
  constructor(handle) {
    this[kHandle] = handle;
  }
  get(key) {
    return native.kvGet(this[kHandle], `${key}`);
  }
  put(key, value) {
    if (arguments.length < 2) {
      native.kvGet(this[kHandle], "");  // the KV-backed error first, as workerd
      throw new TypeError("Failed to execute 'put' on 'SyncKvStorage': parameter 2 is not of type 'Value'.");
    }
    native.kvPut(this[kHandle], `${key}`, value);
  }
  delete(key) {
    return native.kvDelete(this[kHandle], `${key}`);
  }
  list(options) {
    return new ListIterator(native.kvList(this[kHandle], options));
  }
  get [Symbol.toStringTag]() {
    return "SyncKvStorage";
  }
}

export class DurableObjectTransaction {
  constructor(handle) {
    this[kHandle] = handle;
  }
  get(keys, options) {
    return call(native.storageGet, this[kHandle], keys, options);
  }
  put(keyOrEntries, value, options) {
    return call(native.storagePut, this[kHandle], keyOrEntries, value, options, arguments.length);
  }
  delete(keys, options) {
    return call(native.storageDelete, this[kHandle], keys, options);
  }
  list(options) {
    return call(native.storageList, this[kHandle], options);
  }
  rollback() {
    native.storageRollback(this[kHandle]);
  }
  deleteAll() {
    return Promise.reject(new Error("Cannot call deleteAll() within a transaction"));
  }
  getAlarm(options) {
    return call(native.storageGetAlarm, this[kHandle], options);
  }
  setAlarm(scheduledTime, options) {
    const time = scheduledTime instanceof Date ? scheduledTime.getTime() : scheduledTime;
    return call(native.storageSetAlarm, this[kHandle], time, options);
  }
  deleteAlarm(options) {
    return call(native.storageDeleteAlarm, this[kHandle], options);
  }
}

const kStorage = Symbol("storage");

export class DurableObjectState {
  constructor(handle, id) {
    this[kHandle] = handle;
    this[kStorage] = undefined;
    this.id = id;
  }
  get storage() {
    return this[kStorage] ?? (this[kStorage] = new DurableObjectStorage(this[kHandle]));
  }
  waitUntil(promise) {
    native.waitUntil(this[kHandle], Promise.resolve(promise));
  }
  blockConcurrencyWhile(callback) {
    if (typeof callback !== "function") {
      return Promise.reject(new TypeError("blockConcurrencyWhile() requires a function"));
    }
    return call(native.blockConcurrencyWhile, this[kHandle], callback);
  }
  abort(reason) {
    native.abort(this[kHandle], reason === undefined ? "aborted" : String(reason));
  }
  acceptWebSocket(ws, tags = []) {
    if (!(ws instanceof WebSocket) || ws[kClientEnd]) {
      throw new TypeError("Failed to execute 'acceptWebSocket' on 'DurableObjectState': parameter 1 is not of type 'WebSocket'.");
    }
    if (!Array.isArray(tags)) {
      throw new TypeError("Failed to execute 'acceptWebSocket' on 'DurableObjectState': parameter 2 is not of type 'Array'.");
    }
    const unique = [...new Set(tags.map(String))];
    if (unique.length > 10) throw new Error("a Hibernatable WebSocket cannot have more than 10 tags");
    for (const tag of unique) {
      if (utf8.encode(tag).byteLength > 256) {
        throw new Error(`"${tag}" is longer than the max tag length (256 characters).`);
      }
    }
    native.wsAcceptHibernatable(this[kHandle], ws[kSocketId], unique);
  }
  getWebSockets(tag) {
    return native.wsList(this[kHandle], tag === undefined ? undefined : String(tag)).map(serverEnd);
  }
  getTags(ws) {
    if (!(ws instanceof WebSocket)) throw new TypeError("getTags() takes a WebSocket.");
    return native.wsTags(ws[kSocketId]);
  }
  setWebSocketAutoResponse(pair) {
    if (pair === undefined || pair === null) {
      native.wsSetAutoResponse(this[kHandle]);
      return;
    }
    if (!(pair instanceof WebSocketRequestResponsePair)) {
      throw new TypeError("Failed to execute 'setWebSocketAutoResponse' on 'DurableObjectState': parameter 1 is not of type 'WebSocketRequestResponsePair'.");
    }
    for (const [what, text] of [["Request", pair.request], ["Response", pair.response]]) {
      const size = utf8.encode(text).byteLength;
      if (size > 2048) {
        throw new RangeError(`${what} cannot be larger than 2048 bytes. A ${what.toLowerCase()} of size ${size} was provided.`);
      }
    }
    native.wsSetAutoResponse(this[kHandle], pair.request, pair.response);
  }
  getWebSocketAutoResponse() {
    const pair = native.wsGetAutoResponse(this[kHandle]);
    return pair === null ? null : new WebSocketRequestResponsePair(pair[0], pair[1]);
  }
  getWebSocketAutoResponseTimestamp(ws) {
    if (!(ws instanceof WebSocket)) throw new TypeError("getWebSocketAutoResponseTimestamp() takes a WebSocket.");
    const ms = native.wsAutoResponseTime(ws[kSocketId]);
    return ms === null ? null : new Date(ms);
  }
  setHibernatableWebSocketEventTimeout(ms) {
    if (ms !== undefined && ms !== null) {
      ms = Number(ms);
      if (ms < 0) {
        throw new TypeError("The value cannot be converted because it is negative and this API expects a positive number.");
      }
      if (ms > 604800000) throw new Error("Event timeout should not exceed 604800000 ms.");
    }
    native.wsSetEventTimeout(this[kHandle], ms);
  }
  getHibernatableWebSocketEventTimeout() {
    return native.wsGetEventTimeout(this[kHandle]);
  }
}

// The `ctx` of an object: built by C++ when an instance is constructed.
export function makeObjectState(handle, ns, hex, name) {
  return new DurableObjectState(handle, new DurableObjectId(kToken, ns, hex, name));
}

// The `ctx` the Worker's fetch handler gets.
export class ExecutionContext {
  waitUntil(promise) {
    Promise.resolve(promise).catch((e) => native.reportError(e));
  }
  passThroughOnException() {}
}

// The `env` object: namespaces and vars, built once per isolate.
export function makeEnv(namespaces, vars) {
  const env = {};
  for (const [binding, index] of namespaces) {
    env[binding] = new DurableObjectNamespace(kToken, index);
  }
  for (const [name, value] of vars) env[name] = value;
  return env;
}
