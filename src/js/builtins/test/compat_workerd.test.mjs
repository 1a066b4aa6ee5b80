// The same probes (and console.log calls) run in workerd (the reference runtime, installed by tools/install-workerd.sh
// into .deps/workerd) and against the bundle; their results must be equal. Skipped when workerd
// is not installed (set DURO_WORKERD to its binary to use another one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setup } from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const workerd = process.env.DURO_WORKERD ||
  path.resolve(here, '../../../../.deps/workerd/node_modules/@cloudflare/workerd-linux-64/bin/workerd');

// [name, async function body]; each returns a value or throws.
const probes = [
  ['immutable', `const r = new Request('http://x/'); r.headers.set('a', 'b'); return r.headers.get('a');`],
  ['bad header name', `new Headers().set('a b', 'c');`],
  ['bad header value', `new Headers({ a: 'c\\nd' });`],
  ['trimmed value', `return new Headers({ a: ' \\tc\\td \\t' }).get('a');`],
  ['header sequence', `new Headers([['a']]);`],
  ['header init type', `new Headers(5);`],
  ['iteration', `return [...new Headers([['B', '1'], ['a', '2'], ['set-cookie', 'x'], ['Set-Cookie', 'y'], ['b', '3']])];`],
  ['getSetCookie', `return new Headers([['set-cookie', 'x'], ['Set-Cookie', 'y']]).getSetCookie();`],
  ['getAll other', `return new Headers([['a', 'x']]).getAll('a');`],
  ['status 600', `new Response('x', { status: 600 });`],
  ['status 101', `new Response(null, { status: 101 });`],
  ['status float', `return new Response('', { status: 299.9 }).status;`],
  ['null body status', `new Response('x', { status: 204 });`],
  ['redirect 200', `Response.redirect('http://x/', 200);`],
  ['redirect relative', `Response.redirect('/rel');`],
  ['redirect', `const r = Response.redirect('http://x/a b', 301); return [r.status, [...r.headers]];`],
  ['redirect immutable', `Response.redirect('http://x/').headers.set('a', 'b');`],
  ['error', `const r = Response.error(); return [r.status, r.type, r.statusText, r.ok];`],
  ['statusText', `new Response(null, { statusText: 'a\\nb' });`],
  ['json', `const r = Response.json({ a: 1 }, { status: 201 }); return [r.status, [...r.headers], await r.text()];`],
  ['json content-type kept', `return Response.json(1, { headers: { 'content-type': 'foo' } }).headers.get('content-type');`],
  ['response defaults', `const r = new Response(null); return [r.status, r.statusText, r.ok, r.redirected, r.type, r.url, r.body, r.bodyUsed, r.webSocket];`],
  ['content types', `return [new Response('x'), new Response(new Uint8Array(1)), new Response(new URLSearchParams('a=1')), new Response(new Blob(['x'], { type: 'Text/HTML' }))].map((r) => r.headers.get('content-type'));`],
  ['empty string body', `return new Response('').body === null;`],
  ['GET with body', `new Request('http://x/', { body: 'x' });`],
  ['relative request', `new Request('/foo');`],
  ['request url', `return new Request('HTTP://EXAMPLE.com:80/a/../b?x#y').url;`],
  ['methods', `return ['get', 'Get', 'patch', 'purge', 'trace', 'options', 'query', 'ban', 'Propfind', 'MKCOL', 'copy', 'lock', 'move', 'search', 'unlock', 'acl', 'report', 'mkactivity', 'checkout', 'merge', 'msearch', 'M-SEARCH', 'notify', 'subscribe', 'unsubscribe', 'proppatch'].map((m) => new Request('http://x/', { method: m }).method);`],
  ['bad method', `new Request('http://x/', { method: 'track' });`],
  ['connect', `new Request('http://x/', { method: 'CONNECT' });`],
  ['redirect error', `new Request('http://x/', { redirect: 'error' });`],
  ['signal type', `new Request('http://x/', { signal: 5 });`],
  ['request defaults', `const r = new Request('http://x/'); return [r.method, r.redirect, r.cf, r.fetcher, r.integrity, r.keepalive, r.cache, r.body, r.bodyUsed, typeof r.signal];`],
  ['request cf', `return new Request('http://x/', { cf: { a: 1 } }).cf;`],
  ['stream body content-type', `return new Request('http://x/', { method: 'POST', body: new ReadableStream() }).headers.get('content-type');`],
  ['used twice', `const r = new Response('x'); await r.text(); await r.text();`],
  ['reconstruct used', `const r = new Request('http://x/', { method: 'POST', body: 'x' }); await r.text(); new Request(r);`],
  ['body moves', `const r = new Request('http://x/', { method: 'POST', body: 'x' }); const r2 = new Request(r); return [r.bodyUsed, await r2.text()];`],
  ['init from request', `const r = new Request('http://x/', { method: 'POST', body: 'x', headers: { a: '1' } }); const r2 = new Request(r, { method: 'PUT' }); return [r2.method, r2.headers.get('a'), await r2.text()];`],
  ['GET from POST', `new Request(new Request('http://x/', { method: 'POST', body: 'x' }), { method: 'GET' });`],
  ['locked', `const r = new Response('x'); r.body.getReader(); await r.text();`],
  ['not bytes', `await new Response(new ReadableStream({ start(c) { c.enqueue('s'); c.close(); } })).text();`],
  ['formData type', `await new Response('a=1').formData();`],
  ['formData urlencoded', `return [...await new Response('a=1&b=2', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }).formData()];`],
  ['blob', `const b = await new Response('hé', { headers: { 'content-type': 'Text/Plain' } }).blob(); return [b.size, b.type];`],
  ['bytes', `return [...await new Response('hé').bytes()];`],
  ['clone', `const r = new Response('abc'); const c = r.clone(); return [await c.text(), await r.text()];`],
  ['abort reason', `const c = new AbortController(); c.abort(); return [c.signal.reason.name, c.signal.reason.message, c.signal.reason.code];`],
  ['abort static', `return [AbortSignal.abort().reason.message, AbortSignal.abort(5).reason];`],
  ['abort any', `const s = AbortSignal.any([new AbortController().signal, AbortSignal.abort('r')]); return [s.aborted, s.reason];`],
  ['abort timeout', `const s = AbortSignal.timeout(5); await new Promise((r) => setTimeout(r, 30)); return [s.aborted, s.reason.name, s.reason.message, s.reason.code];`],
  ['illegal signal', `new AbortSignal();`],
  ['event ctor', `new Event();`],
  ['event', `const e = new Event('x', { cancelable: true }); e.preventDefault(); return [e.type, e.bubbles, e.cancelable, e.defaultPrevented, e.eventPhase, e.isTrusted, e.composed, e.returnValue];`],
  ['event constants', `return [Event.NONE, Event.CAPTURING_PHASE, Event.AT_TARGET, Event.BUBBLING_PHASE];`],
  ['listener type', `new EventTarget().addEventListener('x', 5);`],
  ['custom event', `return [new CustomEvent('c', { detail: { q: 1 } }).detail, new CustomEvent('c').detail];`],
  ['dom exception', `const e = new DOMException('m', 'NotFoundError'); return [e.name, e.message, e.code, String(e), Object.prototype.toString.call(e), e instanceof Error, DOMException.ABORT_ERR, new DOMException().name];`],
  ['clone function', `structuredClone(() => {});`],
  ['clone symbol', `structuredClone(Symbol());`],
  ['clone nothing', `structuredClone();`],
  ['clone map', `const c = structuredClone(new Map([[1, new Date(5)]])); return [c.get(1).getTime()];`],
  ['random float', `crypto.getRandomValues(new Float32Array(1));`],
  ['random big', `crypto.getRandomValues(new Uint8Array(65537));`],
  ['random dataview', `crypto.getRandomValues(new DataView(new ArrayBuffer(2)));`],
  ['digest unknown', `await crypto.subtle.digest('SHA-3', new Uint8Array(1));`],
  ['digest string', `await crypto.subtle.digest('sha-256', 'str');`],
  ['digest', `return [...new Uint8Array(await crypto.subtle.digest({ name: 'sha-1' }, new Uint8Array(0)))].slice(0, 4);`],
  ['md5', `return [...new Uint8Array(await crypto.subtle.digest('MD5', new TextEncoder().encode('x')))].slice(0, 4);`],
  ['uuid', `return /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID());`],
  ['base64', `return [btoa('abc'), atob(' YW Jj '), atob('YWI'), atob('YQ=='), btoa(null)];`],
  ['atob bad', `atob('YQ=');`],
  ['atob none', `atob();`],
  ['btoa wide', `btoa('é€');`],
  ['setTimeout string', `setTimeout('code');`],
  ['queueMicrotask bad', `queueMicrotask(5);`],
  ['misc globals', `return [navigator.userAgent, performance.timeOrigin, typeof performance.now(), self === globalThis];`],
  ['decoder labels', `return ['utf8', ' UTF-8 ', 'unicode-1-1-utf-8', 'latin1', 'ascii', 'utf-16', 'UTF-16LE', 'utf-16be'].map((l) => new TextDecoder(l).encoding);`],
  ['decoder bad label', `new TextDecoder('foo');`],
  ['decoder fatal', `new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xff]));`],
  ['decode bom', `return [new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41, 0xff])), new TextDecoder('utf-8', { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]))];`],
  ['decode latin1', `return new TextDecoder('latin1').decode(new Uint8Array([0x41, 0xe9, 0x80, 0x9f]));`],
  ['decode streaming', `const d = new TextDecoder(); const b = new TextEncoder().encode('é😀'); return d.decode(b.subarray(0, 1), { stream: true }) + d.decode(b.subarray(1, 4), { stream: true }) + d.decode(b.subarray(4));`],
  ['encodeInto', `return new TextEncoder().encodeInto('a€😀', new Uint8Array(5));`],
  ['encode surrogate', `return [...new TextEncoder().encode('\\ud800')];`],
  ['url', `const u = new URL('https://münchen.de:443/a/../b c?q=é#f'); return [u.href, u.host, u.pathname, u.search, u.hash, u.origin];`],
  ['for in request', `const k = []; for (const x in new Request('http://x/')) k.push(x); return k;`],
  ['for in response', `const k = []; for (const x in new Response('')) k.push(x); return k;`],
  ['toStringTags', `return [new Headers(), new Request('http://x/'), new Response(), new AbortController(), new Event('x'), new TextEncoder(), new Blob()].map((o) => Object.prototype.toString.call(o));`],
];

// Arguments of console.log calls whose output must match workerd's (its console is Node's inspect).
const consoleProbes = [
  `'str', 42, -0, 10n, true, null, undefined`,
  `{ a: 1, b: 'x', c: [1, 2, { d: 3 }] }`,
  `['a', "it's", 'q"'], { s: 'multi\\nline', q: "it's" }`,
  `{ a: { b: { c: { d: { e: 1 } } } } }, [[[[[1]]]]]`,
  `new Map([[1, 'a'], ['k', { x: 1 }]]), new Set([1, 'two']), new Map(), new Set()`,
  `new Date(0), new Date(NaN)`,
  `function named() {}, () => {}, class K {}, async function af() {}, function* gf() {}`,
  `new (class Foo { constructor() { this.a = 1; } })(), Object.create(null)`,
  `(() => { const c = { name: 'c' }; c.self = c; return c; })()`,
  `/re/g, new Uint8Array([1, 2, 3]), new ArrayBuffer(4), new Array(5), [1, , 3]`,
  `{ 'a-b': 1, 2: 'n' }, new Number(3), new String('s'), new Boolean(false), new WeakMap()`,
  `Array.from({ length: 120 }, (_, i) => i)`,
  `Array.from({ length: 30 }, (_, i) => 'item' + i)`,
  `{ long1: 'a'.repeat(20), long2: 'b'.repeat(20), long3: 'c'.repeat(20), long4: 'dddd' }`,
  `{ fn: function () {}, arrow: () => 1 }, [undefined, null], { u: undefined }`,
  `'%s|%d|%i|%f|%O|%j|%c|%%|%x', 'str', 42.5, 42.5, '1.5', { a: 1 }, { j: 1 }, 'color:red', 'extra'`,
  `'%s', { a: 1 }, 'rest', 3`,
  `'%d', '0x10', '%s'`,
  `'%s %s', 'only'`,
  `new URLSearchParams('a=1&b=2')`,
];

function format(result) {
  return typeof result === 'string' ? result : JSON.stringify(result);
}

async function runOurs() {
  const { g, logs } = await setup();
  const names = Object.getOwnPropertyNames(g);
  const results = {};
  for (const [name, body] of probes) {
    try {
      const fn = new Function(...names, `'use strict'; const globalThis = self; return (async () => { ${body} })();`);
      results[name] = format(await fn(...names.map((n) => g[n])));
    } catch (err) {
      results[name] = `THROW ${err.name}: ${err.message}`;
    }
  }
  consoleProbes.forEach((args, i) => {
    logs.length = 0;
    const names = Object.getOwnPropertyNames(g);
    new Function(...names, `console.log(${args});`)(...names.map((n) => g[n]));
    results[`console ${i}`] = logs.map((l) => l[1]).join('\n');
  });
  return results;
}

function runWorkerd() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duro-compat-'));
  try {
    const worker = `const probes = [${probes.map(([name, body]) => `[${JSON.stringify(name)}, async () => { ${body} }]`).join(',\n')}];
export default { async test() {
  const results = {};
  for (const [name, fn] of probes) {
    try { const r = await fn(); results[name] = typeof r === 'string' ? r : JSON.stringify(r); }
    catch (err) { results[name] = 'THROW ' + err.name + ': ' + err.message; }
  }
  console.log('RESULTS ' + JSON.stringify(results));
${consoleProbes.map((args, i) => `  console.log('<<<console ${i}');\n  console.log(${args});\n  console.log('>>>');`).join('\n')}
} };`;
    fs.writeFileSync(path.join(dir, 'worker.js'), worker);
    fs.writeFileSync(path.join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (services = [(name = "main", worker = .w)]);
const w :Workerd.Worker = (modules = [(name = "worker.js", esModule = embed "worker.js")], compatibilityDate = "2026-11-01");
`);
    const out = execFileSync(workerd, ['test', 'config.capnp'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = out.split('\n');
    const results = JSON.parse(lines.find((l) => l.startsWith('RESULTS ')).slice('RESULTS '.length));
    for (let i = 0; i < lines.length; i++) {
      const m = /^<<<(console \d+)$/.exec(lines[i]);
      if (m === null) continue;
      const end = lines.indexOf('>>>', i);
      results[m[1]] = lines.slice(i + 1, end).join('\n');
      i = end;
    }
    return results;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('probes give the same results as in workerd', { skip: !fs.existsSync(workerd) && 'workerd is not installed (tools/install-workerd.sh)' }, async () => {
  const theirs = runWorkerd();
  const ours = await runOurs();
  const names = [...probes.map(([name]) => name), ...consoleProbes.map((_, i) => `console ${i}`)];
  const mismatches = names.filter((name) => ours[name] !== theirs[name])
    .map((name) => `${name}\n  workerd: ${theirs[name]}\n  duro:    ${ours[name]}`);
  assert.equal(mismatches.length, 0, `\n${mismatches.join('\n')}`);
});
