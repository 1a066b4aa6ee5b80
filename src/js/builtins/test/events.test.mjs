import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, sleep } from './helpers.mjs';

test('Event properties and preventDefault', async () => {
  const { g } = await setup();
  const ev = new g.Event('x', { cancelable: true });
  assert.deepEqual([ev.type, ev.bubbles, ev.cancelable, ev.defaultPrevented, ev.eventPhase, ev.isTrusted, ev.composed, ev.target, ev.currentTarget],
    ['x', false, true, false, 0, false, false, null, null]);
  assert.equal(typeof ev.timeStamp, 'number');
  ev.preventDefault();
  assert.deepEqual([ev.defaultPrevented, ev.returnValue], [true, false]);
  const nc = new g.Event('y');
  nc.preventDefault();
  assert.equal(nc.defaultPrevented, false);
  assert.deepEqual([g.Event.NONE, g.Event.CAPTURING_PHASE, g.Event.AT_TARGET, g.Event.BUBBLING_PHASE], [0, 1, 2, 3]);
  assert.throws(() => new g.Event(), { message: "Failed to construct 'Event': constructor parameter 1 is not of type 'string'." });
  const ce = new g.CustomEvent('c', { detail: { q: 1 } });
  assert.deepEqual(ce.detail, { q: 1 });
  assert.ok(ce instanceof g.Event);
  assert.equal(new g.CustomEvent('c').detail, null);
});

test('EventTarget: order, this, handleEvent, duplicates, remove, dispatch result', async () => {
  const { g } = await setup();
  const et = new g.EventTarget();
  const calls = [];
  const fn = function (e) {
    calls.push(['fn', this === et, e.target === et, e.currentTarget === et, e.eventPhase]);
  };
  et.addEventListener('x', fn);
  et.addEventListener('x', fn);  // duplicate ignored
  et.addEventListener('x', fn, true);  // different capture: added
  const obj = { handleEvent(e) { calls.push(['obj', this === obj]); e.preventDefault(); } };
  et.addEventListener('x', obj);
  et.addEventListener('y', null);
  const ev = new g.Event('x', { cancelable: true });
  assert.equal(et.dispatchEvent(ev), false);
  assert.deepEqual(calls, [['fn', true, true, true, 2], ['fn', true, true, true, 2], ['obj', true]]);
  assert.equal(ev.eventPhase, 0);
  assert.equal(ev.currentTarget, null);
  assert.equal(ev.target, et);
  calls.length = 0;
  et.removeEventListener('x', fn);
  et.removeEventListener('x', fn, { capture: true });
  assert.equal(et.dispatchEvent(new g.Event('x')), true);
  assert.deepEqual(calls, [['obj', true]]);
  assert.throws(() => et.addEventListener('x', 5), { message: "Failed to execute 'addEventListener' on 'EventTarget': parameter 2 is not of type 'function or HandlerObject'." });
  assert.throws(() => et.dispatchEvent({ type: 'x' }), TypeError);
});

test('EventTarget: once, signal, stopImmediatePropagation, removal during dispatch', async () => {
  const { g } = await setup();
  const et = new g.EventTarget();
  const calls = [];
  et.addEventListener('x', () => calls.push('once'), { once: true });
  const ac = new g.AbortController();
  et.addEventListener('x', () => calls.push('signal'), { signal: ac.signal });
  et.dispatchEvent(new g.Event('x'));
  ac.abort();
  et.dispatchEvent(new g.Event('x'));
  assert.deepEqual(calls, ['once', 'signal']);
  et.addEventListener('z', () => calls.push('z'), { signal: g.AbortSignal.abort() });  // already aborted: not added
  et.dispatchEvent(new g.Event('z'));
  assert.deepEqual(calls, ['once', 'signal']);

  const et2 = new g.EventTarget();
  const order = [];
  const second = () => order.push('second');
  et2.addEventListener('x', (e) => { order.push('first'); et2.removeEventListener('x', second); });
  et2.addEventListener('x', second);
  et2.addEventListener('x', (e) => { order.push('third'); e.stopImmediatePropagation(); });
  et2.addEventListener('x', () => order.push('fourth'));
  et2.dispatchEvent(new g.Event('x'));
  assert.deepEqual(order, ['first', 'third']);
});

test('EventTarget: listener exceptions are reported, not thrown; redispatch is an InvalidStateError', async () => {
  const { g, errors } = await setup();
  const et = new g.EventTarget();
  const boom = new Error('listener boom');
  et.addEventListener('x', () => { throw boom; });
  let ran = false;
  et.addEventListener('x', () => { ran = true; });
  assert.equal(et.dispatchEvent(new g.Event('x')), true);
  assert.equal(ran, true);
  assert.deepEqual(errors, [boom]);
  const ev = new g.Event('r');
  let inner;
  et.addEventListener('r', () => {
    try {
      et.dispatchEvent(ev);
    } catch (err) {
      inner = err;
    }
  });
  et.dispatchEvent(ev);
  assert.ok(inner instanceof g.DOMException);
  assert.equal(inner.name, 'InvalidStateError');
});

test('AbortController and AbortSignal', async () => {
  const { g } = await setup();
  const ac = new g.AbortController();
  const seen = [];
  ac.signal.addEventListener('abort', (e) => seen.push(['listener', e.type, e.isTrusted, e.target === ac.signal]));
  ac.signal.onabort = (e) => seen.push(['onabort', e.type]);
  assert.equal(typeof ac.signal.onabort, 'function');
  ac.abort('why');
  ac.abort('again');
  assert.deepEqual(seen, [['listener', 'abort', true, true], ['onabort', 'abort']]);
  assert.equal(ac.signal.aborted, true);
  assert.equal(ac.signal.reason, 'why');
  assert.throws(() => ac.signal.throwIfAborted(), (e) => e === 'why');

  const plain = new g.AbortController();
  plain.abort();
  const reason = plain.signal.reason;
  assert.ok(reason instanceof g.DOMException);
  assert.deepEqual([reason.name, reason.message, reason.code], ['AbortError', 'The operation was aborted', 20]);
  assert.equal(g.AbortSignal.abort().reason.message, 'The operation was aborted');
  assert.equal(g.AbortSignal.abort(5).reason, 5);
  assert.throws(() => new g.AbortSignal(), { name: 'TypeError', message: 'Illegal constructor' });
  new g.AbortController().signal.throwIfAborted();
});

test('AbortSignal.timeout and AbortSignal.any', async () => {
  const { g } = await setup();
  const s = g.AbortSignal.timeout(10);
  let fired = 0;
  s.addEventListener('abort', () => fired++);
  assert.equal(s.aborted, false);
  await sleep(40);
  assert.equal(s.aborted, true);
  assert.equal(fired, 1);
  assert.deepEqual([s.reason.name, s.reason.message, s.reason.code], ['TimeoutError', 'The operation was aborted due to timeout', 23]);
  assert.throws(() => g.AbortSignal.timeout(-1), TypeError);

  const a = new g.AbortController();
  const b = new g.AbortController();
  const any = g.AbortSignal.any([a.signal, b.signal]);
  assert.equal(any.aborted, false);
  b.abort('b');
  assert.deepEqual([any.aborted, any.reason], [true, 'b']);
  a.abort('a');
  assert.equal(any.reason, 'b');
  const pre = g.AbortSignal.any([new g.AbortController().signal, g.AbortSignal.abort('r')]);
  assert.deepEqual([pre.aborted, pre.reason], [true, 'r']);
  assert.throws(() => g.AbortSignal.any([{}]), TypeError);
});

test('DOMException', async () => {
  const { g } = await setup();
  const e = new g.DOMException('m', 'NotFoundError');
  assert.deepEqual([e.name, e.message, e.code], ['NotFoundError', 'm', 8]);
  assert.ok(e instanceof Error);
  assert.equal(Object.prototype.toString.call(e), '[object DOMException]');
  assert.equal(String(new g.DOMException('msg', 'AbortError')), 'AbortError: msg');
  assert.match(new g.DOMException('msg', 'AbortError').stack, /^AbortError: msg\n/);
  assert.deepEqual([new g.DOMException().name, new g.DOMException().message, new g.DOMException('x').code], ['Error', '', 0]);
  assert.equal(g.DOMException.ABORT_ERR, 20);
  assert.equal(e.DATA_CLONE_ERR, 25);
  const withCause = new g.DOMException('a', { name: 'DataCloneError', cause: 1 });
  assert.deepEqual([withCause.name, withCause.cause, withCause.code], ['DataCloneError', 1, 25]);
});
