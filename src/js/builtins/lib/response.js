// Response (Fetch Standard) with workerd's behaviour and messages: status 200..599 (101 only
// with a webSocket), Response.json/redirect/error, `webSocket` and `cf` properties, and
// immutable headers on responses that come from C++ (makeResponse) and on redirects.

import { Body, extractBody, addContentType, bodyInit, bodySetHeaders, bodyInitFlatHeaders, bodyHeaders, bodyCloneInto, bodyHasBody } from './body.js';
import { Headers, headersCopy, headersFromFlat, headersGetGuard, kGuardNone, kGuardImmutable } from './headers.js';
import { parseURL, serializeURL } from './url.js';
import { setToStringTag, makeEnumerable, isObject, toUint16 } from './util.js';

const kNullBodyStatus = new Set([101, 204, 205, 304]);
const kRedirectStatus = new Set([301, 302, 303, 307, 308]);
const kReasonPhraseRe = /^[\t\x20-\x7e\x80-\xff]*$/;

const kTrusted = Symbol('trusted');

export let responseInternals;

export class Response extends Body {
  #status = 200;
  #statusText = '';
  #type = 'default';
  #webSocket = null;
  #cf = undefined;

  constructor(body = null, init = undefined) {
    super();
    if (body === kTrusted) return;
    this.#setup(body, init, false);
  }

  // The constructor's work; `json` makes the body's Content-Type application/json.
  #setup(body, init, json) {
    if (init !== undefined && init !== null && !isObject(init)) {
      throw new TypeError("Failed to construct 'Response': parameter 2 is not of type 'ResponseInitializerDict'.");
    }
    let headers = null;
    if (init !== undefined && init !== null) {
      if (init.webSocket !== undefined && init.webSocket !== null) this.#webSocket = init.webSocket;
      if (init.status !== undefined) this.#status = toUint16(init.status);
      if (init.statusText !== undefined) {
        const t = String(init.statusText);
        if (!kReasonPhraseRe.test(t)) throw new TypeError('Invalid statusText');
        this.#statusText = t;
      }
      if (init.headers !== undefined) {
        headers = init.headers instanceof Headers ? headersCopy(init.headers, kGuardNone) : new Headers(init.headers);
      }
      if (init.cf !== undefined) this.#cf = init.cf;
    }
    if (this.#webSocket === null) {
      if (this.#status < 200 || this.#status > 599) {
        throw new RangeError('Responses may only be constructed with status codes in the range 200 to 599, inclusive.');
      }
    } else if (this.#status !== 101) {
      throw new RangeError('Responses with a WebSocket must have status code 101.');
    }
    if (headers === null) headers = new Headers();
    if (body !== null && body !== undefined) {
      if (kNullBodyStatus.has(this.#status)) {
        throw new TypeError('Response with null body status (101, 204, 205, or 304) cannot have a body.');
      }
      const [src, stream, contentType] = extractBody(body);
      addContentType(headers, json ? 'application/json' : contentType);
      bodyInit(this, src, stream);
    } else if (json) {
      addContentType(headers, 'application/json');
    }
    bodySetHeaders(this, headers);
  }

  static json(data, init = undefined) {
    const body = JSON.stringify(data);
    const r = new Response(kTrusted);
    r.#setup(body === undefined ? null : body, init, true);
    return r;
  }

  static redirect(url, status = 302) {
    const s = String(url);
    const record = parseURL(s);
    if (record === null) throw new TypeError(`Unable to parse URL: ${s}`);
    status = toUint16(status);
    if (!kRedirectStatus.has(status)) {
      throw new RangeError(`${status} is not a redirect status code. It must be one of: 301, 302, 303, 307, or 308.`);
    }
    const r = new Response(kTrusted);
    r.#status = status;
    bodySetHeaders(r, headersFromFlat(['location', serializeURL(record)], kGuardImmutable));
    return r;
  }

  static error() {
    const r = new Response(kTrusted);
    r.#status = 0;
    r.#type = 'error';
    bodySetHeaders(r, new Headers());
    return r;
  }

  get status() {
    return this.#status;
  }

  get statusText() {
    return this.#statusText;
  }

  get headers() {
    return bodyHeaders(this);
  }

  get ok() {
    return this.#status >= 200 && this.#status <= 299;
  }

  get redirected() {
    return false;
  }

  get url() {
    return '';
  }

  get webSocket() {
    return this.#webSocket;
  }

  get cf() {
    return this.#cf;
  }

  get type() {
    return this.#type;
  }

  clone() {
    if (this.#webSocket !== null) throw new TypeError('Cannot clone a response to a WebSocket handshake.');
    const r = new Response(kTrusted);
    bodyCloneInto(this, r);
    r.#status = this.#status;
    r.#statusText = this.#statusText;
    r.#type = this.#type;
    r.#cf = this.#cf;
    const headers = bodyHeaders(this);
    bodySetHeaders(r, headersCopy(headers, headersGetGuard(headers)));
    return r;
  }

  static {
    responseInternals = {
      // A response from C++ (the result of stub.fetch): trusted input, immutable headers.
      make(status, statusText, flatHeaders, body) {
        const r = new Response(kTrusted);
        r.#status = status;
        r.#statusText = statusText;
        bodyInitFlatHeaders(r, flatHeaders, kGuardImmutable);
        bodyInit(r, body, null);
        return r;
      },
      isResponse: (v) => isObject(v) && #status in v,
      status: (r) => r.#status,
      statusText: (r) => r.#statusText,
      webSocket: (r) => r.#webSocket,
      hasBody: (r) => bodyHasBody(r),
    };
  }
}
makeEnumerable(Response, ['clone', 'status', 'statusText', 'headers', 'ok', 'redirected', 'url', 'webSocket',
  'cf', 'type']);
setToStringTag(Response);
