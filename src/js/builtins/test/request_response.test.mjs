import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './helpers.mjs';

const { g, mod } = await setup();
const enc = (s) => new TextEncoder().encode(s);
const usedMessage = 'Body has already been used. It can only be used once. Use tee() first if you need to read it twice.';

function streamOf(...chunks) {
  return new g.ReadableStream({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      c.close();
    },
  });
}

test('Request: URL normalized, relative URLs rejected, defaults', () => {
  const r = new g.Request('HTTP://EXAMPLE.com:80/a/../b?x#y');
  assert.equal(r.url, 'http://example.com/b?x#y');
  assert.equal(new g.Request(new g.URL('http://x/p')).url, 'http://x/p');
  assert.throws(() => new g.Request('/foo'), { name: 'TypeError', message: 'Invalid URL: /foo' });
  assert.equal(r.method, 'GET');
  assert.equal(r.redirect, 'follow');
  assert.equal(r.cf, undefined);
  assert.equal(r.body, null);
  assert.equal(r.bodyUsed, false);
  assert.equal(r.fetcher, null);
  assert.equal(r.integrity, '');
  assert.equal(r.keepalive, false);
  assert.equal(r.signal.aborted, false);
  assert.ok(r.signal instanceof g.AbortSignal);
  assert.equal(Object.prototype.toString.call(r), '[object Request]');
  assert.equal(g.Request.name, 'Request');
});

test('Request: method normalization like workerd', () => {
  const m = (method) => new g.Request('http://x/', { method }).method;
  assert.equal(m('get'), 'GET');
  assert.equal(m('Get'), 'GET');
  assert.equal(m('patch'), 'PATCH');
  assert.equal(m('purge'), 'PURGE');
  assert.equal(m('Propfind'), 'PROPFIND');
  assert.equal(m('query'), 'QUERY');
  for (const bad of ['foo', 'CONNECT', 'track', 'a b']) {
    assert.throws(() => m(bad), { name: 'TypeError', message: `Invalid HTTP method string: ${bad}` });
  }
});

test('Request: body rules, content types, cf, redirect, signal', async () => {
  assert.throws(() => new g.Request('http://x/', { body: 'x' }), { name: 'TypeError', message: 'Request with a GET or HEAD method cannot have a body.' });
  assert.throws(() => new g.Request('http://x/', { method: 'HEAD', body: 'x' }), TypeError);
  const post = (body) => new g.Request('http://x/', { method: 'POST', body });
  assert.equal(post('hi').headers.get('content-type'), 'text/plain;charset=UTF-8');
  assert.equal(post(new Uint8Array(2)).headers.get('content-type'), null);
  assert.equal(post(new g.URLSearchParams('a=1')).headers.get('content-type'), 'application/x-www-form-urlencoded;charset=UTF-8');
  assert.equal(post(new g.Blob(['x'], { type: 'Text/HTML' })).headers.get('content-type'), 'text/html');
  assert.equal(post(streamOf(enc('s'))).headers.get('content-type'), null);
  assert.equal(post('').body === null, false);
  assert.equal(new g.Request('http://x/', { method: 'POST', body: null }).body, null);
  const withType = new g.Request('http://x/', { method: 'POST', body: 'x', headers: { 'Content-Type': 'a/b' } });
  assert.deepEqual([...withType.headers], [['content-type', 'a/b']]);
  assert.deepEqual(new g.Request('http://x/', { cf: { a: 1 } }).cf, { a: 1 });
  assert.equal(new g.Request('http://x/', { redirect: 'manual' }).redirect, 'manual');
  for (const r of ['error', 'bogus']) {
    assert.throws(() => new g.Request('http://x/', { redirect: r }), /Invalid redirect value, must be one of "follow" or "manual"/);
  }
  const ac = new g.AbortController();
  const withSignal = new g.Request('http://x/', { signal: ac.signal });
  assert.equal(withSignal.signal, ac.signal);
  assert.throws(() => new g.Request('http://x/', { signal: 5 }), { message: "Incorrect type for the 'signal' field on 'RequestInitializerDict': the provided value is not of type 'AbortSignal'." });
  const buf = new Uint8Array([1, 2]);
  const r = post(buf);
  buf[0] = 9;  // the body is a copy
  assert.deepEqual([...new Uint8Array(await r.arrayBuffer())], [1, 2]);
});

test('Request from a Request keeps headers and body (moved), init overrides', async () => {
  const src = new g.Request('http://x/a', { method: 'POST', body: 'x', headers: { a: '1' }, cf: { c: 1 } });
  const r2 = new g.Request(src, { method: 'PUT' });
  assert.equal(r2.method, 'PUT');
  assert.equal(r2.headers.get('a'), '1');
  assert.deepEqual(r2.cf, { c: 1 });
  assert.equal(src.bodyUsed, true);
  assert.equal(await r2.text(), 'x');
  assert.throws(() => new g.Request(src), { name: 'TypeError', message: 'Cannot reconstruct a Request with a used body.' });
  const src2 = new g.Request('http://x/', { method: 'POST', body: 'x' });
  assert.throws(() => new g.Request(src2, { method: 'GET' }), { message: 'Request with a GET or HEAD method cannot have a body.' });
  const r3 = new g.Request(new g.Request('http://x/a', { method: 'PUT', headers: { q: '1' } }), { headers: { z: '2' } });
  assert.deepEqual([...r3.headers], [['z', '2']]);
  // new Request(url, request): the request is the init
  const incoming = mod.makeRequest('POST', 'http://in/', ['X-In', 'v'], 'payload', undefined);
  const moved = new g.Request('http://other/', incoming);
  assert.equal(moved.method, 'POST');
  assert.equal(moved.url, 'http://other/');
  assert.equal(moved.headers.get('x-in'), 'v');
  moved.headers.set('x-new', '1');  // copied headers are mutable
  assert.equal(await moved.text(), 'payload');
});

test('body reading: text/json/arrayBuffer/bytes/blob/formData, used twice is a TypeError', async () => {
  const r = new g.Response('héllo');
  assert.equal(await r.text(), 'héllo');
  assert.equal(r.bodyUsed, true);
  await assert.rejects(r.text(), { name: 'TypeError', message: usedMessage });
  await assert.rejects(r.arrayBuffer(), { message: usedMessage });
  assert.deepEqual(await new g.Response('{"a":[1]}').json(), { a: [1] });
  await assert.rejects(new g.Response('{').json(), SyntaxError);
  const bytes = await new g.Response('hé').bytes();
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual([...bytes], [104, 195, 169]);
  assert.equal((await new g.Response(new Uint8Array([1, 2, 3])).arrayBuffer()).byteLength, 3);
  const blob = await new g.Response('hé', { headers: { 'content-type': 'Text/Plain' } }).blob();
  assert.equal(blob.size, 3);
  assert.equal(blob.type, 'text/plain');
  assert.equal(await blob.text(), 'hé');
  const form = await new g.Response('a=1&b=%20', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }).formData();
  assert.deepEqual([...form], [['a', '1'], ['b', ' ']]);
  await assert.rejects(new g.Response('a=1').formData(), /Unrecognized Content-Type header value/);
  assert.equal(await new g.Response(null).text(), '');
  assert.equal(await new g.Response(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])).text(), 'A');  // BOM dropped
});

test('body streams: created lazily, read fully, locked and disturbed states', async () => {
  const r = new g.Response('abc');
  const body = r.body;
  assert.ok(body instanceof g.ReadableStream);
  assert.equal(r.body, body);
  assert.equal(r.bodyUsed, false);
  assert.equal(await r.text(), 'abc');
  assert.equal(r.bodyUsed, true);

  const r2 = new g.Response('abc');
  const reader = r2.body.getReader();
  const { value } = await reader.read();
  assert.ok(value instanceof Uint8Array);
  assert.equal(r2.bodyUsed, true);

  const r3 = new g.Response('x');
  r3.body.getReader();
  await assert.rejects(r3.text(), { name: 'TypeError', message: 'This ReadableStream is currently locked to a reader.' });

  const r4 = new g.Response(streamOf(enc('st'), enc('ream')));
  assert.equal(await r4.text(), 'stream');
  await assert.rejects(new g.Response(streamOf('notbytes')).text(), { message: 'This ReadableStream did not return bytes.' });

  const used = new g.Response('x');
  await used.text();
  assert.ok(used.body instanceof g.ReadableStream);
  assert.equal(used.body.locked || used.bodyUsed, true);

  // a stream passed on untouched keeps its data
  const inc = mod.makeRequest('POST', 'http://x/', [], enc('raw'), undefined);
  const out = new g.Response(inc.body);
  assert.equal(inc.body.locked, true);
  assert.equal(await out.text(), 'raw');
});

test('clone() gives two independent bodies; not after use', async () => {
  const r = new g.Request('http://x/', { method: 'POST', body: 'abc', headers: { 'x-a': '1' } });
  const c = r.clone();
  assert.equal(await r.text(), 'abc');
  assert.equal(await c.text(), 'abc');
  assert.equal(c.headers.get('x-a'), '1');
  const s = new g.Response(streamOf(enc('a'), enc('b')));
  const sc = s.clone();
  assert.equal(await sc.text(), 'ab');
  assert.equal(await s.text(), 'ab');
  const b = new g.Response(new Uint8Array([1]));
  const bc = b.clone();
  (await b.bytes())[0] = 7;
  assert.deepEqual([...(await bc.bytes())], [1]);
  assert.throws(() => r.clone(), TypeError);
});

test('Response: status rules and properties like workerd', () => {
  const r = new g.Response(null);
  assert.deepEqual([r.status, r.statusText, r.ok, r.redirected, r.type, r.url, r.body, r.bodyUsed, r.webSocket, r.cf],
    [200, '', true, false, 'default', '', null, false, null, undefined]);
  const range = 'Responses may only be constructed with status codes in the range 200 to 599, inclusive.';
  for (const status of [600, 199, 101, 0, 'abc']) {
    assert.throws(() => new g.Response('x', { status }), { name: 'RangeError', message: range }, String(status));
  }
  assert.equal(new g.Response('', { status: 299.9 }).status, 299);
  assert.equal(new g.Response('', { status: 404 }).ok, false);
  const nullBody = 'Response with null body status (101, 204, 205, or 304) cannot have a body.';
  for (const status of [204, 205, 304]) {
    assert.throws(() => new g.Response('x', { status }), { name: 'TypeError', message: nullBody });
    assert.equal(new g.Response(null, { status }).status, status);
  }
  const ws = { fake: 'websocket' };
  const up = new g.Response(null, { status: 101, webSocket: ws });
  assert.equal(up.status, 101);
  assert.equal(up.webSocket, ws);
  assert.throws(() => new g.Response(null, { status: 200, webSocket: ws }), { name: 'RangeError', message: 'Responses with a WebSocket must have status code 101.' });
  assert.throws(() => up.clone(), TypeError);
  assert.throws(() => new g.Response(null, { statusText: 'a\nb' }), { name: 'TypeError', message: 'Invalid statusText' });
  assert.equal(new g.Response(null, { statusText: 'Not Found' }).statusText, 'Not Found');
  assert.equal(new g.Response(null, { headers: [['a', 'b']] }).headers.get('a'), 'b');
  assert.equal(new g.Response('x').headers.get('content-type'), 'text/plain;charset=UTF-8');
  assert.equal(new g.Response(new Uint8Array(1)).headers.get('content-type'), null);
  assert.equal(new g.Response('').body === null, false);
  new g.Response('x').headers.set('a', 'b');  // constructed responses have mutable headers
});

test('Response.json, Response.redirect, Response.error', async () => {
  const j = g.Response.json({ a: 1 }, { status: 201 });
  assert.equal(j.headers.get('content-type'), 'application/json');
  assert.equal(j.status, 201);
  assert.equal(await j.text(), '{"a":1}');
  assert.equal(g.Response.json(1, { headers: { 'content-type': 'foo' } }).headers.get('content-type'), 'foo');
  assert.throws(() => g.Response.json(1n), TypeError);

  const r = g.Response.redirect('http://x/a b');
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), 'http://x/a%20b');
  assert.deepEqual([...r.headers], [['location', 'http://x/a%20b']]);
  assert.throws(() => r.headers.set('a', 'b'), { message: "Can't modify immutable headers." });
  assert.equal(g.Response.redirect('http://x/', 301).status, 301);
  assert.throws(() => g.Response.redirect('http://x/', 200), { name: 'RangeError', message: '200 is not a redirect status code. It must be one of: 301, 302, 303, 307, or 308.' });
  assert.throws(() => g.Response.redirect('/rel'), { name: 'TypeError', message: 'Unable to parse URL: /rel' });

  const e = g.Response.error();
  assert.deepEqual([e.status, e.type, e.statusText], [0, 'error', '']);
});

test('makeRequest/requestParts round trip, with lazy immutable headers', async () => {
  const flat = ['Host', 'example.com', 'X-Multi', 'a', 'x-multi', 'b'];
  const r = mod.makeRequest('POST', 'https://example.com/p?q', flat, 'body text', { colo: 'LHR' });
  assert.ok(mod.isRequest(r));
  assert.ok(r instanceof g.Request);
  assert.equal(r.method, 'POST');
  assert.equal(r.url, 'https://example.com/p?q');
  assert.deepEqual(r.cf, { colo: 'LHR' });
  const parts = mod.requestParts(r);
  assert.deepEqual(parts, ['POST', 'https://example.com/p?q', flat, 'body text']);
  assert.equal(r.bodyUsed, true);
  await assert.rejects(r.text(), { message: usedMessage });
  assert.throws(() => mod.requestParts(r), { message: usedMessage });

  const r2 = mod.makeRequest('GET', 'http://x/', flat, null, undefined);
  assert.equal(r2.headers.get('x-multi'), 'a, b');
  assert.throws(() => r2.headers.set('a', 'b'), { message: "Can't modify immutable headers." });
  assert.deepEqual(mod.requestParts(r2), ['GET', 'http://x/', flat, null]);
  assert.equal(r2.cf, undefined);

  const r3 = mod.makeRequest('PUT', 'http://x/', [], enc('bytes'), undefined);
  assert.equal(await r3.text(), 'bytes');

  const built = new g.Request('http://x/', { method: 'POST', body: streamOf(enc('a'), enc('b')), headers: { 'X-A': '1' } });
  const [m, u, h, body] = mod.requestParts(built);
  assert.deepEqual([m, u, h], ['POST', 'http://x/', ['X-A', '1']]);
  assert.ok(body instanceof Promise);
  assert.deepEqual([...(await body)], [97, 98]);
  assert.throws(() => mod.requestParts({}), TypeError);
  assert.equal(mod.isRequest(new g.Response()), false);
});

test('responseParts/makeResponse round trip', async () => {
  const resp = new g.Response('hi', { status: 201, statusText: 'Created', headers: { 'Set-Cookie': 'a=1' } });
  resp.headers.append('set-cookie', 'b=2');
  assert.deepEqual(mod.responseParts(resp), [201, 'Created', ['Set-Cookie', 'a=1', 'content-type', 'text/plain;charset=UTF-8', 'set-cookie', 'b=2'], 'hi', null]);
  assert.throws(() => mod.responseParts(resp), { message: usedMessage });
  assert.throws(() => mod.responseParts({ status: 200 }), { name: 'TypeError' });
  assert.throws(() => mod.responseParts(undefined), TypeError);

  const streamed = mod.responseParts(new g.Response(streamOf(enc('x'), enc('yz'))));
  assert.ok(streamed[3] instanceof Promise);
  assert.equal(new TextDecoder().decode(await streamed[3]), 'xyz');
  assert.equal(mod.responseParts(new g.Response(null, { status: 204 }))[3], null);
  const ws = {};
  assert.equal(mod.responseParts(new g.Response(null, { status: 101, webSocket: ws }))[4], ws);

  const fromCpp = mod.makeResponse(404, 'Not Found', ['Content-Type', 'text/plain', 'X-A', '1'], enc('nope'));
  assert.ok(mod.isResponse(fromCpp));
  assert.equal(fromCpp.status, 404);
  assert.equal(fromCpp.statusText, 'Not Found');
  assert.equal(fromCpp.ok, false);
  assert.equal(fromCpp.headers.get('x-a'), '1');
  assert.throws(() => fromCpp.headers.set('a', 'b'), { message: "Can't modify immutable headers." });
  assert.equal(await fromCpp.text(), 'nope');
  // pass-through: a response from C++ returned as is
  const again = mod.makeResponse(200, 'OK', ['A', 'b'], 'text');
  assert.deepEqual(mod.responseParts(again), [200, 'OK', ['A', 'b'], 'text', null]);
  // a copy with changed headers (new Response(resp.body, resp)) keeps the bytes without a stream read
  const orig = mod.makeResponse(200, 'OK', ['A', 'b'], enc('data'));
  const copy = new g.Response(orig.body, orig);
  copy.headers.set('c', 'd');
  const parts = mod.responseParts(copy);
  assert.deepEqual(parts.slice(0, 3), [200, 'OK', ['A', 'b', 'c', 'd']]);
  assert.equal(new TextDecoder().decode(parts[3]), 'data');
});

test('toRequest normalizes stub.fetch arguments', async () => {
  const r = mod.toRequest('http://x/y', { method: 'post', body: 'b' });
  assert.ok(r instanceof g.Request);
  assert.equal(r.method, 'POST');
  const same = mod.toRequest(r, undefined);
  assert.equal(same.url, 'http://x/y');
  assert.equal(await same.text(), 'b');
  assert.throws(() => mod.toRequest('relative'), { message: 'Invalid URL: relative' });
});

test('Blob, File and FormData bodies', async () => {
  const form = new g.FormData();
  form.append('a', '1');
  form.append('f', new g.Blob(['file body'], { type: 'text/plain' }), 'f.txt');
  const r = new g.Request('http://x/', { method: 'POST', body: form });
  const ct = r.headers.get('content-type');
  assert.match(ct, /^multipart\/form-data; boundary=/);
  const parsed = await r.formData();
  assert.equal(parsed.get('a'), '1');
  const f = parsed.get('f');
  assert.ok(f instanceof g.File);
  assert.equal(f.name, 'f.txt');
  assert.equal(f.type, 'text/plain');
  assert.equal(await f.text(), 'file body');
  // Node's Response parses what we wrote
  const again = new g.Request('http://x/', { method: 'POST', body: form });
  const nodeForm = await new Response(await again.arrayBuffer(), { headers: { 'content-type': again.headers.get('content-type') } }).formData();
  assert.equal(nodeForm.get('a'), '1');
  assert.equal(await nodeForm.get('f').text(), 'file body');
  const blob = new g.Blob(['ab', new Uint8Array([99]), new g.Blob(['d'])]);
  assert.equal(await blob.text(), 'abcd');
  assert.equal(await blob.slice(1, -1).text(), 'bc');
  assert.equal(await new g.Response(blob.stream()).text(), 'abcd');
});

test('for..in lists the attributes like workerd', () => {
  const keys = [];
  for (const k in new g.Request('http://x/')) keys.push(k);
  assert.deepEqual(keys, ['clone', 'method', 'url', 'headers', 'redirect', 'fetcher', 'signal', 'cf', 'integrity', 'keepalive', 'cache',
    'body', 'bodyUsed', 'arrayBuffer', 'bytes', 'text', 'json', 'formData', 'blob']);
  const rkeys = [];
  for (const k in new g.Response('')) rkeys.push(k);
  assert.deepEqual(rkeys, ['clone', 'status', 'statusText', 'headers', 'ok', 'redirected', 'url', 'webSocket', 'cf', 'type',
    'body', 'bodyUsed', 'arrayBuffer', 'bytes', 'text', 'json', 'formData', 'blob']);
});
