// Request (Fetch Standard) with workerd's behaviour: absolute URLs only, workerd's method list
// (standard methods are upper-cased case-insensitively, others are a TypeError), redirect
// "follow" | "manual", request.cf, and immutable headers on incoming requests (makeRequest).

import { Body, extractBody, addContentType, bodyInit, bodySetHeaders, bodyInitFlatHeaders, bodyHeaders, bodyTake, bodyCloneInto, bodyHasBody, bodyIsUsed } from './body.js';
import { Headers, headersCopy, headersGetGuard, kGuardNone, kGuardImmutable } from './headers.js';
import { AbortSignal, newSignal } from './abort.js';
import { URL, parseURL, serializeURL } from './url.js';
import { setToStringTag, makeEnumerable, isObject } from './util.js';

// The methods kj (and so workerd) knows, by upper-case name.
const kMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'PURGE', 'OPTIONS', 'TRACE',
  'COPY', 'LOCK', 'MKCOL', 'MOVE', 'PROPFIND', 'PROPPATCH', 'SEARCH', 'UNLOCK', 'ACL', 'REPORT',
  'MKACTIVITY', 'CHECKOUT', 'MERGE', 'MSEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'QUERY', 'BAN']);

function normalizeMethod(m) {
  m = String(m);
  if (kMethods.has(m)) return m;
  const upper = m.toUpperCase();
  if (kMethods.has(upper)) return upper;
  throw new TypeError(`Invalid HTTP method string: ${m}`);
}

export function parseAbsoluteURL(input) {
  const s = input instanceof URL ? input.href : String(input);
  const record = parseURL(s);
  if (record === null) throw new TypeError(`Invalid URL: ${s}`);
  return serializeURL(record);
}

const kTrusted = Symbol('trusted');

export let requestInternals;

export class Request extends Body {
  #method = 'GET';
  #url = '';
  #redirect = 'follow';
  #signal = null;
  #cf = undefined;
  #fetcher = null;

  constructor(input, init = undefined) {
    super();
    if (input === kTrusted) return;
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'Request': 1 argument required, but only 0 present.");
    }
    if (init !== undefined && init !== null && !isObject(init)) {
      throw new TypeError("Failed to construct 'Request': parameter 2 is not of type 'RequestInitializerDict'.");
    }
    if (init === null) init = undefined;

    // Another Request as init (new Request(url, request)) is read through its internals, so
    // its body moves over without becoming a stream.
    const initRequest = init instanceof Request ? init : null;

    let src = null;
    let stream = null;
    let headers = null;
    let ownHeaders = false;
    if (input instanceof Request) {
      this.#method = input.#method;
      this.#url = input.#url;
      this.#redirect = input.#redirect;
      this.#signal = input.#signal;
      this.#cf = input.#cf;
      this.#fetcher = input.#fetcher;
      headers = bodyHeaders(input);
    } else {
      this.#url = parseAbsoluteURL(input);
    }

    let bodyGiven = false;
    let contentType = null;
    if (initRequest !== null) {
      this.#method = initRequest.#method;
      this.#redirect = initRequest.#redirect;
      this.#signal = initRequest.#signal;
      this.#cf = initRequest.#cf;
      headers = bodyHeaders(initRequest);
      if (bodyHasBody(initRequest)) {
        [src, stream] = bodyTake(initRequest);
        bodyGiven = true;
      }
    } else if (init !== undefined) {
      if (init.method !== undefined) this.#method = normalizeMethod(init.method);
      if (init.redirect !== undefined) {
        const r = String(init.redirect);
        if (r !== 'follow' && r !== 'manual') {
          throw new TypeError('Invalid redirect value, must be one of "follow" or "manual" ("error" won\'t be implemented since it does not make sense at the edge; use "manual" and check the response status code).');
        }
        this.#redirect = r;
      }
      if (init.signal !== undefined) {
        if (init.signal !== null && !(init.signal instanceof AbortSignal)) {
          throw new TypeError("Incorrect type for the 'signal' field on 'RequestInitializerDict': the provided value is not of type 'AbortSignal'.");
        }
        this.#signal = init.signal;
      }
      if (init.cf !== undefined) this.#cf = init.cf;
      if (init.headers !== undefined) {
        headers = new Headers(init.headers);
        ownHeaders = true;
      }
      if (init.body !== undefined && init.body !== null) {
        [src, stream, contentType] = extractBody(init.body);
        bodyGiven = true;
      }
    }

    if (!bodyGiven && input instanceof Request && (bodyHasBody(input) || bodyIsUsed(input))) {
      [src, stream] = bodyTake(input);
      bodyGiven = true;
    }
    if (bodyGiven && (this.#method === 'GET' || this.#method === 'HEAD')) {
      throw new TypeError('Request with a GET or HEAD method cannot have a body.');
    }

    // Headers copied from another Request (or from init.headers) are this request's own, and
    // mutable even when the source's were not.
    if (headers === null) headers = new Headers();
    else if (!ownHeaders) headers = headersCopy(headers, kGuardNone);
    addContentType(headers, contentType);
    bodySetHeaders(this, headers);
    bodyInit(this, src, stream);
  }

  get method() {
    return this.#method;
  }

  get url() {
    return this.#url;
  }

  get headers() {
    return bodyHeaders(this);
  }

  get redirect() {
    return this.#redirect;
  }

  get fetcher() {
    return this.#fetcher;
  }

  get signal() {
    // Requests made without a signal get one that never aborts, created on first use.
    if (this.#signal === null) this.#signal = newSignal();
    return this.#signal;
  }

  get cf() {
    return this.#cf;
  }

  get integrity() {
    return '';
  }

  get keepalive() {
    return false;
  }

  get cache() {
    return undefined;
  }

  clone() {
    const r = new Request(kTrusted);
    bodyCloneInto(this, r);
    r.#method = this.#method;
    r.#url = this.#url;
    r.#redirect = this.#redirect;
    r.#signal = this.#signal;
    r.#cf = this.#cf;
    r.#fetcher = this.#fetcher;
    const headers = bodyHeaders(this);
    bodySetHeaders(r, headersCopy(headers, headersGetGuard(headers)));
    return r;
  }

  static {
    requestInternals = {
      // An incoming request from C++ (see index.js makeRequest): trusted input, no parsing.
      make(method, url, flatHeaders, body, cf) {
        const r = new Request(kTrusted);
        r.#method = method;
        r.#url = url;
        r.#cf = cf;
        bodyInitFlatHeaders(r, flatHeaders, kGuardImmutable);
        bodyInit(r, body, null);
        return r;
      },
      isRequest: (v) => isObject(v) && #method in v,
      method: (r) => r.#method,
      url: (r) => r.#url,
    };
  }
}
makeEnumerable(Request, ['clone', 'method', 'url', 'headers', 'redirect', 'fetcher', 'signal', 'cf', 'integrity',
  'keepalive', 'cache']);
setToStringTag(Request);
