// Headers (Fetch Standard) with workerd's behaviour: names are case-insensitive, iteration is
// sorted by lower-cased name with the values of a name combined by ", " (except Set-Cookie,
// which yields one entry per value), getSetCookie(), workerd's getAll('set-cookie'), and the
// "immutable" guard of incoming requests and fetch() responses.
//
// Storage is one flat array of triples [key (lower-cased), name (as given), value, ...] in
// insertion order; headers from C++ are usually a dozen entries, so linear scans beat a Map.
// The original name is kept for the wire (toFlat()), JavaScript only ever sees the key.

import { setToStringTag, makeEnumerable, isObject } from './util.js';

// RFC 9110 token characters.
const kTokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const kBadValueRe = /[\0\r\n]/;
const kTrimRe = /^[\t\n\r ]+|[\t\n\r ]+$/g;

export const kGuardNone = 0;
export const kGuardImmutable = 1;

function validName(name) {
  name = String(name);
  if (!kTokenRe.test(name)) throw new TypeError('Invalid header name.');
  return name;
}

function normalizeValue(value) {
  value = String(value);
  const n = value.length;
  if (n !== 0) {
    const first = value.charCodeAt(0);
    const last = value.charCodeAt(n - 1);
    if (first <= 32 || last <= 32) value = value.replace(kTrimRe, '');
  }
  if (kBadValueRe.test(value)) throw new TypeError('Invalid header value.');
  return value;
}

function immutableError() {
  return new TypeError("Can't modify immutable headers.");
}

// Module-private access to Headers internals, set in the static block.
export let headersFromFlat;
export let headersToFlat;
export let headersCopy;
export let headersSetGuard;
export let headersGetGuard;
export let headersHasKey;
export let headersGetKey;
export let headersAppendTrusted;

const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));

class HeadersIterator {
  #pairs;
  #kind;
  #index = 0;

  constructor(pairs, kind) {
    this.#pairs = pairs;
    this.#kind = kind;
  }

  next() {
    if (this.#index >= this.#pairs.length) return { value: undefined, done: true };
    const pair = this.#pairs[this.#index++];
    const value = this.#kind === 0 ? [pair[0], pair[1]] : this.#kind === 1 ? pair[0] : pair[1];
    return { value, done: false };
  }
}
Object.setPrototypeOf(HeadersIterator.prototype, IteratorPrototype);
setToStringTag(HeadersIterator, 'Headers Iterator');

export class Headers {
  #list = [];
  #guard = kGuardNone;
  // The sorted and combined view, cached until the next change.
  #sorted = null;

  constructor(init = undefined) {
    if (init === undefined || init === null) return;
    if (!isObject(init)) {
      throw new TypeError("Failed to construct 'Headers': constructor parameter 1 is not of type 'Headers or Sequence or object'.");
    }
    if (#list in init) {
      this.#list = init.#list.slice();
      return;
    }
    const iter = init[Symbol.iterator];
    if (iter !== undefined && iter !== null) {
      if (typeof iter !== 'function') {
        throw new TypeError("Failed to construct 'Headers': constructor parameter 1 is not of type 'Headers or Sequence or object'.");
      }
      for (const pair of init) {
        if (!isObject(pair)) {
          throw new TypeError('To initialize a Headers object from a sequence, each inner sequence must have exactly two elements.');
        }
        const p = Array.isArray(pair) ? pair : Array.from(pair);
        if (p.length !== 2) {
          throw new TypeError('To initialize a Headers object from a sequence, each inner sequence must have exactly two elements.');
        }
        this.append(p[0], p[1]);
      }
      return;
    }
    for (const key of Reflect.ownKeys(init)) {
      if (typeof key !== 'string') continue;
      const d = Reflect.getOwnPropertyDescriptor(init, key);
      if (d === undefined || !d.enumerable) continue;
      this.append(key, init[key]);
    }
  }

  append(name, value) {
    name = validName(name);
    value = normalizeValue(value);
    if (this.#guard !== kGuardNone) throw immutableError();
    this.#list.push(name.toLowerCase(), name, value);
    this.#sorted = null;
  }

  delete(name) {
    const key = validName(name).toLowerCase();
    if (this.#guard !== kGuardNone) throw immutableError();
    this.#deleteKey(key);
  }

  #deleteKey(key) {
    const list = this.#list;
    let w = 0;
    for (let r = 0; r < list.length; r += 3) {
      if (list[r] !== key) {
        if (w !== r) {
          list[w] = list[r];
          list[w + 1] = list[r + 1];
          list[w + 2] = list[r + 2];
        }
        w += 3;
      }
    }
    if (w !== list.length) {
      list.length = w;
      this.#sorted = null;
    }
  }

  get(name) {
    return this.#getKey(validName(name).toLowerCase());
  }

  #getKey(key) {
    const list = this.#list;
    let result = null;
    for (let i = 0; i < list.length; i += 3) {
      if (list[i] === key) result = result === null ? list[i + 2] : `${result}, ${list[i + 2]}`;
    }
    return result;
  }

  getSetCookie() {
    const list = this.#list;
    const out = [];
    for (let i = 0; i < list.length; i += 3) {
      if (list[i] === 'set-cookie') out.push(list[i + 2]);
    }
    return out;
  }

  // workerd's non-standard getAll(), only for Set-Cookie.
  getAll(name) {
    const key = validName(name).toLowerCase();
    if (key !== 'set-cookie') throw new TypeError('getAll() can only be used with the header name "Set-Cookie".');
    return this.getSetCookie();
  }

  has(name) {
    const key = validName(name).toLowerCase();
    const list = this.#list;
    for (let i = 0; i < list.length; i += 3) {
      if (list[i] === key) return true;
    }
    return false;
  }

  set(name, value) {
    name = validName(name);
    value = normalizeValue(value);
    if (this.#guard !== kGuardNone) throw immutableError();
    const key = name.toLowerCase();
    const list = this.#list;
    let i = 0;
    for (; i < list.length; i += 3) {
      if (list[i] === key) break;
    }
    if (i === list.length) {
      list.push(key, name, value);
    } else {
      list[i + 2] = value;
      // Remove later entries of the same name, keeping the first one's position.
      let w = i + 3;
      for (let r = i + 3; r < list.length; r += 3) {
        if (list[r] !== key) {
          if (w !== r) {
            list[w] = list[r];
            list[w + 1] = list[r + 1];
            list[w + 2] = list[r + 2];
          }
          w += 3;
        }
      }
      list.length = w;
    }
    this.#sorted = null;
  }

  forEach(callback, thisArg = undefined) {
    if (typeof callback !== 'function') {
      throw new TypeError("Failed to execute 'forEach' on 'Headers': parameter 1 is not of type 'Function'.");
    }
    const pairs = this.#sortedPairs();
    for (let i = 0; i < pairs.length; i++) {
      callback.call(thisArg, pairs[i][1], pairs[i][0], this);
    }
  }

  entries() {
    return new HeadersIterator(this.#sortedPairs(), 0);
  }

  keys() {
    return new HeadersIterator(this.#sortedPairs(), 1);
  }

  values() {
    return new HeadersIterator(this.#sortedPairs(), 2);
  }

  // [key, value] pairs sorted by key, values of a key combined except for Set-Cookie.
  #sortedPairs() {
    if (this.#sorted !== null) return this.#sorted;
    const list = this.#list;
    const order = [];
    for (let i = 0; i < list.length; i += 3) order.push(i);
    // Array.prototype.sort is stable, so equal keys keep their insertion order.
    order.sort((a, b) => (list[a] < list[b] ? -1 : list[a] > list[b] ? 1 : 0));
    const pairs = [];
    for (const i of order) {
      const key = list[i];
      const last = pairs.length === 0 ? null : pairs[pairs.length - 1];
      if (last !== null && last[0] === key && key !== 'set-cookie') {
        last[1] = `${last[1]}, ${list[i + 2]}`;
      } else {
        pairs.push([key, list[i + 2]]);
      }
    }
    this.#sorted = pairs;
    return pairs;
  }

  static {
    // A Headers from C++'s flat [name, value, ...] list, trusted: no validation.
    headersFromFlat = (flat, guard) => {
      const h = new Headers();
      const list = new Array((flat.length / 2) * 3);
      for (let i = 0, j = 0; i + 1 < flat.length; i += 2, j += 3) {
        const name = flat[i];
        list[j] = name.toLowerCase();
        list[j + 1] = name;
        list[j + 2] = flat[i + 1];
      }
      h.#list = list;
      h.#guard = guard;
      return h;
    };
    // The flat [name, value, ...] list in insertion order, names as given.
    headersToFlat = (h) => {
      const list = h.#list;
      const flat = new Array((list.length / 3) * 2);
      for (let i = 0, j = 0; i < list.length; i += 3, j += 2) {
        flat[j] = list[i + 1];
        flat[j + 1] = list[i + 2];
      }
      return flat;
    };
    headersCopy = (h, guard) => {
      const c = new Headers();
      c.#list = h.#list.slice();
      c.#guard = guard;
      return c;
    };
    headersSetGuard = (h, guard) => {
      h.#guard = guard;
    };
    headersGetGuard = (h) => h.#guard;
    headersHasKey = (h, key) => {
      const list = h.#list;
      for (let i = 0; i < list.length; i += 3) {
        if (list[i] === key) return true;
      }
      return false;
    };
    headersGetKey = (h, key) => h.#getKey(key);
    // Appends without validation or guard check (the name is already lower-case).
    headersAppendTrusted = (h, key, value) => {
      h.#list.push(key, key, value);
      h.#sorted = null;
    };
  }
}
Headers.prototype[Symbol.iterator] = Headers.prototype.entries;
Object.defineProperty(Headers.prototype, Symbol.iterator, { enumerable: false });
makeEnumerable(Headers, ['append', 'delete', 'get', 'getSetCookie', 'getAll', 'has', 'set', 'forEach',
  'entries', 'keys', 'values']);
setToStringTag(Headers);
