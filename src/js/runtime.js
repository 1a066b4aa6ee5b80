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
  const [status, statusText, responseHeaders, responseBody] =
      await native.stubFetch(stub[kNs], stub[kHex], stub[kName], method, url, headers, body);
  return web.makeResponse(status, statusText, responseHeaders, responseBody);
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
