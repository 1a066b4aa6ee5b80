import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './helpers.mjs';

const { g } = await setup();

test('names are case-insensitive; get combines values with ", "', () => {
  const h = new g.Headers();
  h.append('Accept', 'a');
  h.append('ACCEPT', 'b');
  assert.equal(h.get('accept'), 'a, b');
  assert.equal(h.has('AcCePt'), true);
  assert.equal(h.get('missing'), null);
  h.set('accept', 'c');
  assert.equal(h.get('Accept'), 'c');
  h.delete('ACCEPT');
  assert.equal(h.has('accept'), false);
});

test('iteration is sorted by lower-cased name, combined except Set-Cookie (Node agrees)', () => {
  const init = [['B', '1'], ['a', '2'], ['set-cookie', 'x'], ['Set-Cookie', 'y'], ['b', '3'], ['C-D', ' 4 ']];
  const expected = [['a', '2'], ['b', '1, 3'], ['c-d', '4'], ['set-cookie', 'x'], ['set-cookie', 'y']];
  assert.deepEqual([...new g.Headers(init)], expected);
  // Node's own Headers as an oracle (Node 18's predates the Set-Cookie rule)
  if (typeof Headers.prototype.getSetCookie === 'function') assert.deepEqual([...new Headers(init)], expected);
  assert.deepEqual([...new g.Headers(init).keys()], ['a', 'b', 'c-d', 'set-cookie', 'set-cookie']);
  assert.deepEqual([...new g.Headers(init).values()], ['2', '1, 3', '4', 'x', 'y']);
  assert.equal(new g.Headers(init).get('set-cookie'), 'x, y');
  assert.deepEqual(new g.Headers(init).getSetCookie(), ['x', 'y']);
  assert.deepEqual(new g.Headers(init).getAll('Set-Cookie'), ['x', 'y']);
  assert.throws(() => new g.Headers(init).getAll('a'), { name: 'TypeError', message: 'getAll() can only be used with the header name "Set-Cookie".' });
});

test('iterators snapshot the list and have the standard shape', () => {
  const h = new g.Headers({ a: '1', b: '2', c: '3' });
  const seen = [];
  for (const [k] of h) {
    seen.push(k);
    if (k === 'a') h.delete('b');
  }
  assert.deepEqual(seen, ['a', 'b', 'c']);
  const it = h.entries();
  assert.equal(Object.prototype.toString.call(it), '[object Headers Iterator]');
  assert.equal(it[Symbol.iterator](), it);
  assert.equal(g.Headers.prototype[Symbol.iterator], g.Headers.prototype.entries);
  assert.equal(Object.prototype.toString.call(h), '[object Headers]');
});

test('forEach passes (value, name, headers) and thisArg', () => {
  const h = new g.Headers({ 'Content-Type': 'x', b: 'y' });
  const calls = [];
  h.forEach(function (v, k, o) {
    calls.push([v, k, o === h, this]);
  }, 'self');
  assert.deepEqual(calls, [['y', 'b', true, 'self'], ['x', 'content-type', true, 'self']]);
});

test('constructor accepts Headers, sequences, records and Maps; rejects bad input like workerd', () => {
  const src = new g.Headers([['set-cookie', 'a'], ['set-cookie', 'b']]);
  const copy = new g.Headers(src);
  src.append('x', '1');
  assert.deepEqual([...copy], [['set-cookie', 'a'], ['set-cookie', 'b']]);
  assert.equal(new g.Headers(new Map([['a', 'b']])).get('a'), 'b');
  assert.equal(new g.Headers({ a: 1 }).get('a'), '1');
  assert.deepEqual([...new g.Headers(null)], []);
  assert.throws(() => new g.Headers([['a']]), { name: 'TypeError', message: 'To initialize a Headers object from a sequence, each inner sequence must have exactly two elements.' });
  assert.throws(() => new g.Headers(5), { name: 'TypeError', message: "Failed to construct 'Headers': constructor parameter 1 is not of type 'Headers or Sequence or object'." });
  assert.throws(() => new g.Headers('abc'), TypeError);
});

test('validates names and values with workerd\'s messages; trims whitespace', () => {
  for (const bad of ['', 'a b', '(', ':', ' a', 'a\t', 'é']) {
    assert.throws(() => new g.Headers().set(bad, 'v'), { name: 'TypeError', message: 'Invalid header name.' }, JSON.stringify(bad));
  }
  assert.equal(new g.Headers().has('ok!#$%&\'*+-.^_`|~'), false);
  for (const bad of ['a\rb', 'a\nb', 'a\0b']) {
    assert.throws(() => new g.Headers({ x: bad }), { name: 'TypeError', message: 'Invalid header value.' }, JSON.stringify(bad));
  }
  assert.equal(new g.Headers({ a: ' \tc\td \t\n' }).get('a'), 'c\td');
  assert.equal(new g.Headers({ a: ' \x0b x' }).get('a'), '\x0b x');
  assert.equal(new g.Headers({ a: 'Ā€' }).get('a'), 'Ā€');
  assert.throws(() => new g.Headers().get('a b'), { message: 'Invalid header name.' });
});

test('immutable headers throw "Can\'t modify immutable headers." but can be read and copied', async () => {
  const { mod } = await setup();
  const r = mod.makeRequest('GET', 'http://x/', ['Host', 'x'], null, undefined);
  for (const op of [(h) => h.set('a', 'b'), (h) => h.append('a', 'b'), (h) => h.delete('host')]) {
    assert.throws(() => op(r.headers), { name: 'TypeError', message: "Can't modify immutable headers." });
  }
  assert.equal(r.headers.get('host'), 'x');
  const copy = new g.Headers(r.headers);
  copy.set('a', 'b');
  assert.equal(copy.get('a'), 'b');
});
