import { test } from 'node:test';
import assert from 'node:assert/strict';
import util from 'node:util';
import { setup } from './helpers.mjs';

const { g, logs } = await setup();

function logged(...args) {
  logs.length = 0;
  g.console.log(...args);
  assert.equal(logs.length, 1);
  assert.equal(logs[0][0], 'log');
  return logs[0][1];
}

class Foo {
  constructor() {
    this.a = 1;
  }
}
class Bar {}
const cyc = { name: 'c' };
cyc.self = cyc;
const arrCyc = [1];
arrCyc.push(arrCyc);
const sparse = [1, , 3];  // eslint-disable-line no-sparse-arrays
const withExtra = [1, 2];
withExtra.extra = 'x';

// Values whose console.log output must be exactly what Node's util.format gives (workerd's
// console uses Node's inspect too).
const sameAsNode = {
  string: 'str',
  number: 42,
  negZero: -0,
  float: 1.5,
  nan: NaN,
  bigint: 10n,
  bool: true,
  null: null,
  undefined,
  symbol: Symbol('s'),
  emptyObject: {},
  emptyArray: [],
  object: { a: 1, b: 'x', c: [1, 2, { d: 3 }] },
  array: [1, 2, 3],
  quotes: ['a', "it's", 'q"', 'both\'"', 'all\'"`'],
  escapes: ['tab\there', 'nl\nx', 'nul\0', 'bs\\', '\x7f'],
  deep: { a: { b: { c: { d: { e: 1 } } } } },
  deepArray: [[[[1]]]],
  deeperArray: [[[[[1]]]]],
  map: new Map([[1, 'a'], ['k', { x: 1 }]]),
  set: new Set([1, 'two']),
  emptyMap: new Map(),
  emptySet: new Set(),
  date: new Date(0),
  invalidDate: new Date(NaN),
  named: function named() {},
  anonymous: () => {},
  klass: class K {},
  subclass: class L extends Foo {},
  asyncFn: async function af() {},
  generator: function* gf() {},
  instance: new Foo(),
  emptyInstance: new Bar(),
  nullProto: Object.create(null),
  nullProtoWithKey: Object.assign(Object.create(null), { a: 1 }),
  circular: cyc,
  circularArray: arrCyc,
  regexp: /re/g,
  typed: new Uint8Array([1, 2, 3]),
  float64: new Float64Array([1.5, -0]),
  bigints: new BigInt64Array([1n]),
  arrayBuffer: new ArrayBuffer(4),
  holes: new Array(5),
  sparse,
  withExtra,
  keys: { 'a-b': 1, 2: 'n', [Symbol('k')]: 1, valid_id: 2 },
  boxedNumber: new Number(3),
  boxedString: new String('s'),
  boxedBool: new Boolean(false),
  weakMap: new WeakMap(),
  long: Array.from({ length: 120 }, (_, i) => i),
  strings: Array.from({ length: 30 }, (_, i) => `item${i}`),
  mixed: [1, 'a', 2, 'b', 3, 'c', 4, 'd'],
  wide: { long1: 'a'.repeat(20), long2: 'b'.repeat(20), long3: 'c'.repeat(20), long4: 'dddd' },
  nested: { a: [{}, []], b: new Map([[{}, []]]) },
  functions: { fn: function () {}, arrow: () => 1 },
  undefs: [undefined, null],
  undefValue: { u: undefined },
  getters: { get g() { return 1; }, set s(v) {}, get gs() { return 1; }, set gs(v) {} },
  longString: { s: `${'word '.repeat(30)}\nsecond line` },
  numbersObj: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i])),
  error: { nested: new Error('inner') },
};

test('console.log of single values matches Node util.format', () => {
  for (const [name, value] of Object.entries(sameAsNode)) {
    assert.equal(logged(value), util.format(value), name);
  }
});

test('console.log format strings match Node util.format', () => {
  const cases = [
    ['a', 1, 'b', { x: 1 }, ['s']],
    ['%s|%d|%i|%f|%O|%j|%c|%%|%x', 'str', 42.5, 42.5, '1.5', { a: 1 }, { j: 1 }, 'color:red', 'extra'],
    ['%o', { a: [1] }],
    ['%s', { a: 1 }, 'rest', 3],
    ['%d', '0x10', '%s'],
    ['%s %s', 'only'],
    [5, '%s', 'x'],
    ['%s', 10n, Symbol('q')],
    ['%d', 10n],
    ['%i', 'abc'],
    ['%s', null, undefined],
    ['%s', [1, [2]]],
    ['%s', -0],
    ['%s', new Date(0)],
    ['%s', { toString() { return 'custom'; } }],
    ['%s', new Foo()],
    ['%j', cyc],
    ['100%', 1],
    ['%', 1],
    ['%s%'],
    [],
    [''],
    ['a\nb', { c: 1 }],
  ];
  for (const args of cases) {
    assert.equal(logged(...args), util.format(...args), JSON.stringify(args.map(String)));
  }
});

test('errors print their stack', () => {
  const err = new TypeError('bad');
  assert.equal(logged(err), err.stack);
  assert.equal(logged('x', err), `x ${err.stack}`);
  const noStack = new Error('plain');
  noStack.stack = undefined;
  assert.equal(logged(noStack), util.format(noStack));
  const withProps = new Error('p');
  withProps.code = 'E_X';
  assert.equal(logged(withProps), util.format(withProps));
});

test('levels and the other console methods', () => {
  logs.length = 0;
  g.console.info('i');
  g.console.warn('w');
  g.console.error('e');
  g.console.debug('d');
  assert.deepEqual(logs, [['info', 'i'], ['warn', 'w'], ['error', 'e'], ['debug', 'd']]);
  logs.length = 0;
  g.console.assert(true, 'no');
  g.console.assert(false, 'assert %s', 'msg');
  g.console.assert(false);
  g.console.count();
  g.console.count('x');
  g.console.count();
  g.console.countReset();
  g.console.count();
  assert.deepEqual(logs, [['error', 'Assertion failed: assert msg'], ['error', 'Assertion failed'],
    ['info', 'default: 1'], ['info', 'x: 1'], ['info', 'default: 2'], ['info', 'default: 1']]);
  logs.length = 0;
  g.console.group('G');
  g.console.log('in\nside');
  g.console.groupEnd();
  g.console.log('out');
  assert.deepEqual(logs.map((l) => l[1]), ['G', '  in\n  side', 'out']);
  logs.length = 0;
  g.console.dir({ a: { b: { c: { d: 1 } } } }, { depth: 0 });
  g.console.dir('str');
  assert.deepEqual(logs.map((l) => l[1]), ['{ a: [Object] }', "'str'"]);
  logs.length = 0;
  g.console.trace('here %d', 1);
  assert.match(logs[0][1], /^Trace: here 1\n {4}at /);
  logs.length = 0;
  g.console.table([{ a: 1, b: 'x' }, { a: 2 }]);
  assert.equal(logs[0][1], [
    '┌─────────┬───┬─────┐',
    '│ (index) │ a │  b  │',
    '├─────────┼───┼─────┤',
    "│    0    │ 1 │ 'x' │",
    '│    1    │ 2 │     │',
    '└─────────┴───┴─────┘',
  ].join('\n'));
  logs.length = 0;
  g.console.time('t');
  g.console.timeEnd('t');
  assert.match(logs[0][1], /^t: \d+(\.\d+)?ms$/);
});

test('Web API objects print their attributes', () => {
  assert.equal(logged(new g.Headers({ a: '1', B: '2' })), "Headers(2) { 'a' => '1', 'b' => '2' }");
  assert.equal(logged(new g.Headers()), 'Headers(0) {}');
  assert.equal(logged(new g.URLSearchParams('a=1')), "URLSearchParams(1) { 'a' => '1' }");
  const req = logged(new g.Request('http://x/'));
  assert.match(req, /^Request \{\n {2}method: 'GET',\n {2}url: 'http:\/\/x\/',\n {2}headers: Headers\(0\) \{\},/);
  assert.match(logged(new g.Response('r')), /^Response \{\n {2}status: 200,/);
  assert.match(logged(new g.URL('http://x/y')), /^URL \{\n {2}href: 'http:\/\/x\/y',/);
  assert.equal(logged(new g.AbortController().signal), 'AbortSignal { aborted: false, reason: undefined, onabort: null }');
  assert.equal(logged(new g.Blob(['ab'], { type: 'text/plain' })), "Blob { size: 2, type: 'text/plain' }");
  assert.match(logged(new g.DOMException('msg', 'AbortError')), /^DOMException \[AbortError\]: msg\n {4}at /);
});
