// The bundle in a context that has only the JavaScript language (a vm context, as the C++ side
// makes with V8): nothing may depend on Node's globals (TextEncoder, queueMicrotask,
// structuredClone, setTimeout, ...). The `native` functions are wrapped so that what they return
// belongs to the context's realm, as V8 natives' results do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import vm from 'node:vm';
import { bundlePath, makeNative, sleep } from './helpers.mjs';

function loadBare() {
  const src = fs.readFileSync(bundlePath, 'utf8');
  const m = /\nexport\s*\{([^}]*)\};/.exec(src);
  assert.ok(m, 'the bundle ends with an export list');
  const exportsObject = m[1].split(',').map((s) => s.trim()).filter(Boolean)
    .map((s) => (/ as /.test(s) ? `${s.split(' as ')[1]}: ${s.split(' as ')[0]}` : s)).join(', ');
  const script = `${src.slice(0, m.index)}\n__duro.exports = { ${exportsObject} };\n${src.slice(m.index + m[0].length)}`;
  const shim = makeNative();
  const ctx = vm.createContext({ __duro: { outer: shim.native } });
  vm.runInContext(script, ctx, { filename: 'duro_builtins.js' });
  vm.runInContext(`{
    const o = __duro.outer;
    const inner = (ab) => new Uint8Array(new Uint8Array(ab)).buffer;
    const native = {
      utf8Encode: (s) => new Uint8Array(o.utf8Encode(s)),
      utf8EncodeInto: (s, u8) => { const r = o.utf8EncodeInto(s, u8); return [r[0], r[1]]; },
      utf8Decode: (b, fatal, ignoreBOM) => o.utf8Decode(b, fatal, ignoreBOM),
      getRandomValues: (a) => { o.getRandomValues(a); return a; },
      randomUUID: () => o.randomUUID(),
      digest: (alg, b) => inner(o.digest(alg, b)),
      hmac: (alg, k, b) => inner(o.hmac(alg, k, b)),
      serialize: (v) => inner(o.serialize(v)),
      deserialize: (ab) => o.deserialize(ab),
      log: (level, message) => o.log(level, message),
      setTimer: (cb, ms, repeat) => o.setTimer(cb, ms, repeat),
      clearTimer: (id) => o.clearTimer(id),
      enqueueMicrotask: (fn) => o.enqueueMicrotask(fn),
      reportError: (e) => o.reportError(e),
      now: () => o.now(),
    };
    __duro.exports.install(globalThis, native);
  }`, ctx);
  return { ctx, ...shim, run: (code) => vm.runInContext(code, ctx) };
}

test('the bundle evaluates and works in a bare context', async () => {
  const { ctx, run, logs, errors } = loadBare();
  assert.equal(run('typeof process + typeof require + typeof Buffer'), 'undefinedundefinedundefined');
  assert.equal(run('self === globalThis && typeof Request'), 'function');
  const result = await run(`(async () => {
    const out = [];
    const { makeRequest, requestParts, responseParts } = __duro.exports;
    const req = makeRequest('POST', 'https://example.com/a?b=1', ['Content-Type', 'text/plain', 'Host', 'example.com'], new TextEncoder().encode('héllo'), { colo: 'X' });
    const url = new URL(req.url);
    out.push(url.pathname + url.search + url.searchParams.get('b'));
    out.push(await req.clone().text());
    const copy = new Request('https://münchen.de/x', req);
    out.push(copy.url, copy.headers.get('content-type'));
    const res = new Response(copy.body.pipeThrough(new TextDecoderStream()).pipeThrough(new TransformStream({
      transform(chunk, c) { c.enqueue(new TextEncoder().encode(chunk.toUpperCase())); },
    })), { status: 201, headers: { 'x-a': '1' } });
    const parts = responseParts(res);
    out.push(parts[0], parts[2].join(','), new TextDecoder().decode(await parts[3]));
    out.push(JSON.stringify(await Response.json({ a: [1] }).json()));
    const blob = new Blob(['ab', new Uint8Array([99])]);
    out.push(await new Response(blob.stream()).text());
    const form = new FormData();
    form.append('k', 'v');
    out.push((await new Request('http://x/', { method: 'POST', body: form }).formData()).get('k'));
    out.push(btoa(atob('aGk=')));
    out.push(structuredClone(new Map([[1, 2]])).get(1));
    out.push([...new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(0)))].slice(0, 2).join(','));
    const signal = AbortSignal.timeout(5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    out.push(signal.reason.name);
    await new Promise((resolve) => queueMicrotask(resolve));
    const [m, u, h, b] = requestParts(new Request('http://x/', { method: 'PUT', body: new ReadableStream({ start(c) { c.enqueue(new Uint8Array([1])); c.close(); } }) }));
    out.push(m, u, h.length, (await b).length);
    console.log('logged', { a: 1 }, [new Headers({ x: 'y' })]);
    return out;
  })()`);
  assert.deepEqual(JSON.parse(JSON.stringify(result)), ['/a?b=11', 'héllo', 'https://xn--mnchen-3ya.de/x', 'text/plain', 201, 'x-a,1', 'HÉLLO',
    '{"a":[1]}', 'abc', 'v', 'aGk=', 2, '227,176', 'TimeoutError', 'PUT', 'http://x/', 0, 1]);
  assert.deepEqual(logs, [['log', "logged { a: 1 } [ Headers(1) { 'x' => 'y' } ]"]]);
  assert.deepEqual(errors, []);
  void ctx;
  await sleep(1);
});
