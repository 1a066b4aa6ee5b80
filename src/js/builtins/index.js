// duro's Web APIs for a V8 context: the entry of the bundle that C++ embeds and evaluates once
// per context. install(global, native) defines the globals; the other exports are what C++
// calls to move requests and responses in and out. The contract is in README.md.

import { setNative } from './lib/native.js';
import { defineHidden } from './lib/util.js';
import { DOMException } from './lib/dom_exception.js';
import { Event, EventTarget, CustomEvent } from './lib/events.js';
import { AbortController, AbortSignal } from './lib/abort.js';
import { TextEncoder, TextDecoder, TextEncoderStream, TextDecoderStream } from './lib/encoding.js';
import { atob, btoa } from './lib/base64.js';
import { Headers } from './lib/headers.js';
import { Blob, File } from './lib/blob.js';
import { FormData } from './lib/form_data.js';
import { bodyFlatHeaders, bodyParts } from './lib/body.js';
import { Request, requestInternals } from './lib/request.js';
import { Response, responseInternals } from './lib/response.js';
import { URL, URLSearchParams, fastParseForTest, fullParseForTest } from './lib/url.js';
import * as streams from './lib/streams.js';
import { Crypto, CryptoKey, SubtleCrypto, makeCrypto } from './lib/crypto.js';
import { structuredClone } from './lib/structured_clone.js';
import { setTimeout, setInterval, clearTimeout, clearInterval, queueMicrotask, Scheduler } from './lib/timers.js';
import { makeConsole } from './lib/console.js';
import { inspectGetters, inspectEntries } from './lib/inspect_custom.js';

for (const cls of [Request, Response, Event, CustomEvent, AbortSignal, AbortController, Blob, File, TextEncoder,
  TextDecoder, TextEncoderStream, TextDecoderStream, URL, streams.ReadableStream, streams.WritableStream,
  streams.TransformStream]) {
  inspectGetters(cls);
}
for (const cls of [Headers, URLSearchParams, FormData]) inspectEntries(cls);

const kNativeFunctions = ['utf8Encode', 'utf8EncodeInto', 'utf8Decode', 'getRandomValues', 'randomUUID', 'digest',
  'serialize', 'deserialize', 'log', 'setTimer', 'clearTimer', 'enqueueMicrotask', 'reportError', 'now', 'hmac'];

// Defines every global on `global` (non-enumerable, writable, configurable, like WebIDL) and
// keeps `native` for this context.
export function install(global, native) {
  for (const name of kNativeFunctions) {
    if (typeof native?.[name] !== 'function') throw new TypeError(`install(): native.${name} is not a function`);
  }
  setNative(native);
  const globals = {
    DOMException,
    Event,
    EventTarget,
    CustomEvent,
    AbortController,
    AbortSignal,
    TextEncoder,
    TextDecoder,
    TextEncoderStream,
    TextDecoderStream,
    atob,
    btoa,
    Headers,
    Request,
    Response,
    Blob,
    File,
    FormData,
    URL,
    URLSearchParams,
    ...streams,
    Crypto,
    SubtleCrypto,
    CryptoKey,
    crypto: makeCrypto(),
    structuredClone,
    setTimeout,
    setInterval,
    clearTimeout,
    clearInterval,
    queueMicrotask,
    scheduler: new Scheduler(),
    console: makeConsole(),
    navigator: Object.freeze({ userAgent: 'Cloudflare-Workers', hardwareConcurrency: 1 }),
    // As in workerd: timeOrigin 0, so performance.now() is milliseconds since the epoch.
    performance: Object.freeze({ timeOrigin: 0, now: () => native.now() }),
    self: global,
  };
  for (const name of Object.keys(globals)) defineHidden(global, name, globals[name]);
}

// An incoming request from C++. headers: flat [name0, value0, ...] (any case); body: null |
// string | Uint8Array (taken over, not copied); cf: object or undefined. Trusted input: nothing
// is parsed or validated. Its headers are immutable.
export function makeRequest(method, url, headers, body, cf) {
  return requestInternals.make(method, url, headers, body, cf);
}

// [method, url, flatHeaders, body] of a Request, body null | string | Uint8Array |
// Promise<Uint8Array> (a stream is read to the end). Marks the body used.
export function requestParts(request) {
  if (!requestInternals.isRequest(request)) throw new TypeError('requestParts(): not a Request.');
  return [requestInternals.method(request), requestInternals.url(request), bodyFlatHeaders(request), bodyParts(request)];
}

// [status, statusText, flatHeaders, body, webSocket] of a Response, body as in requestParts.
export function responseParts(response) {
  if (!responseInternals.isResponse(response)) {
    throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
  }
  return [
    responseInternals.status(response),
    responseInternals.statusText(response),
    bodyFlatHeaders(response),
    bodyParts(response),
    responseInternals.webSocket(response),
  ];
}

// A Response from C++ (the result of stub.fetch), headers immutable; trusted input.
export function makeResponse(status, statusText, headers, body) {
  return responseInternals.make(status, statusText, headers, body);
}

// new Request(input, init), for stub.fetch(url | Request, init).
export function toRequest(input, init) {
  return new Request(input, init);
}

export function isRequest(v) {
  return requestInternals.isRequest(v);
}

export function isResponse(v) {
  return responseInternals.isResponse(v);
}

// Not part of the C++ contract: hooks for the tests.
export const internalsForTest = { fastParse: fastParseForTest, fullParse: fullParseForTest };
