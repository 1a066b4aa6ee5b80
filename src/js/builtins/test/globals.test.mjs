import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { setup, sleep, makeNative, bundlePath } from './helpers.mjs';

const expectedGlobals = ['DOMException', 'Event', 'EventTarget', 'CustomEvent', 'AbortController', 'AbortSignal', 'TextEncoder',
  'TextDecoder', 'TextEncoderStream', 'TextDecoderStream', 'atob', 'btoa', 'Headers', 'Request', 'Response', 'Blob', 'File',
  'FormData', 'URL', 'URLSearchParams', 'ReadableStream', 'ReadableStreamDefaultReader', 'ReadableStreamBYOBReader',
  'ReadableStreamBYOBRequest', 'ReadableStreamDefaultController', 'ReadableByteStreamController', 'WritableStream',
  'WritableStreamDefaultWriter', 'WritableStreamDefaultController', 'TransformStream', 'TransformStreamDefaultController',
  'ByteLengthQueuingStrategy', 'CountQueuingStrategy', 'Crypto', 'CryptoKey', 'SubtleCrypto', 'crypto', 'structuredClone', 'setTimeout',
  'setInterval', 'clearTimeout', 'clearInterval', 'queueMicrotask', 'scheduler', 'console', 'navigator', 'performance', 'self'];

test('install() defines every global as non-enumerable, writable, configurable', async () => {
  const { g } = await setup();
  assert.deepEqual(Object.keys(g), []);
  for (const name of expectedGlobals) {
    const d = Object.getOwnPropertyDescriptor(g, name);
    assert.ok(d, name);
    assert.deepEqual([d.enumerable, d.writable, d.configurable], [false, true, true], name);
  }
  assert.deepEqual(Object.getOwnPropertyNames(g).sort(), [...expectedGlobals].sort());
  assert.equal(g.self, g);
  assert.equal(g.navigator.userAgent, 'Cloudflare-Workers');
  assert.equal(g.performance.timeOrigin, 0);
  assert.ok(Math.abs(g.performance.now() - Date.now()) < 1000);
  for (const name of expectedGlobals) {
    if (typeof g[name] === 'function' && /^[A-Z]/.test(name)) assert.equal(g[name].name, name);
  }
});

test('install() checks the native object; the bundle has the contract exports', async () => {
  const mod = await import(`${pathToFileURL(bundlePath).href}?contract`);
  assert.deepEqual(Object.keys(mod).filter((k) => k !== 'internalsForTest').sort(),
    ['install', 'isRequest', 'isResponse', 'makeRequest', 'makeResponse', 'requestParts', 'responseParts', 'toRequest']);
  const { native } = makeNative();
  delete native.now;
  assert.throws(() => mod.install({}, native), /native\.now is not a function/);
});

test('timers: ids are numbers, extra args, clear, intervals, callback exceptions go to C++', async () => {
  const { g, errors, timers } = await setup();
  const calls = [];
  const id = g.setTimeout((a, b) => calls.push(['t', a, b]), 1, 'x', 2);
  assert.equal(typeof id, 'number');
  const cancelled = g.setTimeout(() => calls.push('cancelled'), 1);
  g.clearTimeout(cancelled);
  g.clearTimeout(undefined);
  g.clearTimeout('nonsense');
  g.clearTimeout(null);
  let n = 0;
  const iv = g.setInterval(() => {
    n++;
    if (n === 3) g.clearInterval(iv);
  }, 1);
  g.setTimeout(() => { throw new Error('timer boom'); });
  await sleep(60);
  assert.deepEqual(calls, [['t', 'x', 2]]);
  assert.equal(n, 3);
  assert.equal(timers.size, 0);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].message, 'timer boom');
  assert.throws(() => g.setTimeout('code'), { name: 'TypeError', message: 'The "callback" argument must be of type function. Received type string (\'code\')' });
});

test('queueMicrotask runs before timers and reports exceptions', async () => {
  const { g, errors } = await setup();
  const order = [];
  g.setTimeout(() => order.push('timer'), 0);
  g.queueMicrotask(() => order.push('micro'));
  g.queueMicrotask(() => { throw new Error('micro boom'); });
  await sleep(20);
  assert.deepEqual(order, ['micro', 'timer']);
  assert.equal(errors[0].message, 'micro boom');
  assert.throws(() => g.queueMicrotask(5), { name: 'TypeError', message: "Failed to execute 'queueMicrotask' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'." });
  const t0 = Date.now();
  await g.scheduler.wait(20);
  assert.ok(Date.now() - t0 >= 15);
});

test('structuredClone: Map, Set, Date, cycles, typed arrays; DataCloneError', async () => {
  const { g } = await setup();
  const src = { m: new Map([[1, { a: 1 }]]), s: new Set(['x']), d: new Date(5), u8: new Uint8Array([1, 2]), big: 10n, re: /x/g };
  src.self = src;
  const c = g.structuredClone(src);
  assert.notEqual(c, src);
  assert.equal(c.self, c);
  assert.deepEqual(c.m.get(1), { a: 1 });
  assert.ok(c.s.has('x'));
  assert.equal(c.d.getTime(), 5);
  assert.deepEqual([...c.u8], [1, 2]);
  assert.equal(c.big, 10n);
  assert.equal(c.re.source, 'x');
  assert.equal(g.structuredClone(undefined), undefined);
  for (const bad of [() => {}, Symbol('s'), { f() {} }]) {
    assert.throws(() => g.structuredClone(bad), (err) => err instanceof g.DOMException && err.name === 'DataCloneError' && err.code === 25 && /could not be cloned/.test(err.message));
  }
  assert.throws(() => g.structuredClone(), { name: 'TypeError' });
  const buf = new ArrayBuffer(2);
  assert.equal(g.structuredClone(buf, { transfer: [buf] }).byteLength, 2);
  assert.throws(() => g.structuredClone(1, { transfer: [{}] }), (err) => err.name === 'DataCloneError');
});

test('crypto: getRandomValues, randomUUID, subtle.digest (Node agrees)', async () => {
  const { g } = await setup();
  const a = new Uint32Array(8);
  assert.equal(g.crypto.getRandomValues(a), a);
  assert.ok(a.some((x) => x !== 0));
  g.crypto.getRandomValues(new BigInt64Array(1));
  for (const bad of [new Float32Array(1), new Float64Array(1), new DataView(new ArrayBuffer(2)), [1]]) {
    assert.throws(() => g.crypto.getRandomValues(bad), (err) => err.name === 'TypeMismatchError' && err.code === 17 && err.message === 'ArrayBufferView argument to getRandomValues() must be an integer-typed view.');
  }
  g.crypto.getRandomValues(new Uint8Array(65536));
  assert.throws(() => g.crypto.getRandomValues(new Uint8Array(65537)), { name: 'QuotaExceededError', message: 'getRandomValues() only accepts buffers of size <= 64K but provided 65537 bytes.' });
  assert.match(g.crypto.randomUUID(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const data = new TextEncoder().encode('hello');
  for (const alg of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']) {
    const ours = new Uint8Array(await g.crypto.subtle.digest(alg, data));
    const node = new Uint8Array(await webcrypto.subtle.digest(alg, data));
    assert.deepEqual(ours, node, alg);
  }
  assert.equal((await g.crypto.subtle.digest({ name: 'sha-256' }, data.buffer)).byteLength, 32);
  assert.equal(new Uint8Array(await g.crypto.subtle.digest('MD5', new Uint8Array(0)))[0], 212);
  await assert.rejects(g.crypto.subtle.digest('SHA-3', data), { name: 'NotSupportedError', message: 'Unrecognized or unimplemented digest algorithm requested.' });
  await assert.rejects(g.crypto.subtle.digest('SHA-256', 'str'), { name: 'TypeError', message: "Failed to execute 'digest' on 'SubtleCrypto': parameter 2 is not of type 'BufferSource'." });
  await assert.rejects(g.crypto.subtle.encrypt(), { name: 'NotSupportedError' });
  // HMAC keys: sign and verify agree with Node's HMAC.
  const key = await g.crypto.subtle.importKey('raw', new g.TextEncoder().encode('key'), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify']);
  const msg = new g.TextEncoder().encode('The quick brown fox jumps over the lazy dog');
  const sig = new Uint8Array(await g.crypto.subtle.sign('HMAC', key, msg));
  assert.equal(Buffer.from(sig).toString('hex'), 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
  assert.equal(await g.crypto.subtle.verify('HMAC', key, sig, msg), true);
  assert.equal(await g.crypto.subtle.verify('HMAC', key, sig, new g.TextEncoder().encode('tampered')), false);
  assert.equal(key.algorithm.hash.name, 'SHA-256');
  assert.deepEqual([...new Uint8Array(await g.crypto.subtle.exportKey('raw', key))], [107, 101, 121]);
  await assert.rejects(g.crypto.subtle.sign('HMAC', await g.crypto.subtle.importKey('raw', msg, { name: 'HMAC', hash: 'SHA-1' }, false, ['verify']), msg), { name: 'InvalidAccessError' });
  assert.equal(g.crypto.subtle.timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
  assert.equal(g.crypto.subtle.timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
  assert.throws(() => new g.Crypto(), TypeError);
});

test('URL and URLSearchParams follow the URL Standard (Node agrees)', async () => {
  const { g } = await setup();
  const inputs = ['http://EXAMPLE.com/a/../b?q=1#f', 'https://user:pw@x.com:443/', 'http://[::1]:8080/p', 'http://192.168.0.1./',
    'https://münchen.de/straße', 'http://xn--mnchen-3ya.de/', 'http://a b/', 'file:///etc/passwd', 'mailto:x@y', 'http://ex%41mple.com/',
    'https://example.com/%zz?%zz', 'http://0x7f.1/', 'blob:https://a/b', 'non-special://host/p?q', 'HTTP://Ex_ample.COM'];
  for (const input of inputs) {
    let ours;
    let node;
    try { ours = new g.URL(input).href; } catch (err) { ours = `throws ${err.name}`; }
    try { node = new URL(input).href; } catch (err) { node = `throws ${err.name}`; }
    assert.equal(ours, node, input);
  }
  assert.equal(new g.URL('../c', 'http://x/a/b').href, 'http://x/c');
  const u = new g.URL('http://x/?a=1&b=2&a=3');
  assert.deepEqual(u.searchParams.getAll('a'), ['1', '3']);
  u.searchParams.append('c', 'é &');
  assert.equal(u.search, '?a=1&b=2&a=3&c=%C3%A9+%26');
  const p = new g.URLSearchParams({ z: '1', y: '2' });
  p.sort();
  assert.equal(p.toString(), 'y=2&z=1');
  assert.equal(new g.Request('https://münchen.de/').url, 'https://xn--mnchen-3ya.de/');
});

test('streams: ReadableStream, TransformStream, pipeTo, queuing strategies', async () => {
  const { g } = await setup();
  const rs = new g.ReadableStream({ start(c) { c.enqueue('a'); c.enqueue('b'); c.close(); } });
  const upper = new g.TransformStream({ transform(chunk, c) { c.enqueue(chunk.toUpperCase()); } });
  const out = [];
  await rs.pipeThrough(upper).pipeTo(new g.WritableStream({ write(chunk) { out.push(chunk); } }));
  assert.deepEqual(out, ['A', 'B']);
  assert.equal(new g.CountQueuingStrategy({ highWaterMark: 3 }).highWaterMark, 3);
  assert.equal(new g.ByteLengthQueuingStrategy({ highWaterMark: 8 }).size(new Uint8Array(5)), 5);
  const r = new g.Response('byob');
  const reader = r.body.getReader({ mode: 'byob' });
  const { value } = await reader.read(new Uint8Array(2));
  assert.deepEqual([...value], [98, 121]);
  const s = new g.Response('x').body;
  assert.ok(s instanceof g.ReadableStream);
  assert.notEqual(g.ReadableStream, globalThis.ReadableStream);
});
