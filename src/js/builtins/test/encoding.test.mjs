import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './helpers.mjs';

const { g } = await setup();

test('TextEncoder encode and encodeInto', () => {
  const e = new g.TextEncoder();
  assert.equal(e.encoding, 'utf-8');
  assert.deepEqual([...e.encode('a€')], [97, 226, 130, 172]);
  assert.deepEqual([...e.encode()], []);
  assert.deepEqual([...e.encode('\ud800')], [239, 191, 189]);
  assert.deepEqual(e.encodeInto('a€😀', new Uint8Array(5)), { read: 2, written: 4 });
  assert.throws(() => e.encodeInto('a', []), TypeError);
});

test('TextDecoder labels, BOM, fatal', () => {
  assert.equal(new g.TextDecoder().encoding, 'utf-8');
  assert.equal(new g.TextDecoder(' UTF8 ').encoding, 'utf-8');
  assert.equal(new g.TextDecoder('unicode-1-1-utf-8').encoding, 'utf-8');
  assert.equal(new g.TextDecoder('latin1').encoding, 'windows-1252');
  assert.equal(new g.TextDecoder('ascii').encoding, 'windows-1252');
  assert.equal(new g.TextDecoder('UTF-16').encoding, 'utf-16le');
  assert.equal(new g.TextDecoder('utf-16be').encoding, 'utf-16be');
  for (const bad of ['foo', 'replacement']) {
    assert.throws(() => new g.TextDecoder(bad), { name: 'RangeError', message: `"${bad}" is not a valid encoding.` });
  }
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 0x41, 0xff]);
  assert.equal(new g.TextDecoder().decode(bytes), 'A\ufffd');
  assert.equal(new g.TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(0, 4)), '\ufeffA');
  assert.throws(() => new g.TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xff])), TypeError);
  assert.equal(new g.TextDecoder().decode(new Uint16Array([0x6968]).buffer), 'hi');
  assert.equal(new g.TextDecoder().decode(new DataView(new Uint8Array([0x41, 0x42]).buffer, 1)), 'B');
  assert.equal(new g.TextDecoder().decode(), '');
  assert.throws(() => new g.TextDecoder().decode('str'), TypeError);
  assert.equal(new g.TextDecoder('latin1').decode(new Uint8Array([0x41, 0xe9, 0x80, 0x9f])), 'Aé€Ÿ');
  const d = new g.TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  assert.deepEqual([d.fatal, d.ignoreBOM], [true, true]);
});

test('TextDecoder streaming keeps split UTF-8 sequences (every split point, Node agrees)', () => {
  const text = 'aé€😀\ufeffz';
  const bytes = new TextEncoder().encode('\ufeff' + text);
  for (let i = 0; i <= bytes.length; i++) {
    for (let j = i; j <= bytes.length; j++) {
      const d = new g.TextDecoder();
      const out = d.decode(bytes.subarray(0, i), { stream: true }) + d.decode(bytes.subarray(i, j), { stream: true }) + d.decode(bytes.subarray(j));
      assert.equal(out, text, `split at ${i},${j}`);
    }
  }
  // invalid bytes inside a stream match Node's decoder
  const junk = new Uint8Array([0xe2, 0x82, 0x41, 0xf0, 0x9f, 0xff, 0xc3]);
  for (let i = 0; i <= junk.length; i++) {
    const ours = new g.TextDecoder();
    const node = new TextDecoder();
    const a = ours.decode(junk.subarray(0, i), { stream: true }) + ours.decode(junk.subarray(i));
    const b = node.decode(junk.subarray(0, i), { stream: true }) + node.decode(junk.subarray(i));
    assert.equal(a, b, `split at ${i}`);
  }
  // the decoder is reusable after a non-stream call
  const d = new g.TextDecoder();
  d.decode(new Uint8Array([0xe2]), { stream: true });
  assert.equal(d.decode(new Uint8Array([0x82, 0xac])), '€');
  assert.equal(d.decode(new Uint8Array([0x41])), 'A');
});

test('TextDecoder UTF-16LE/BE with streaming and fatal', () => {
  const le = new Uint8Array([0xff, 0xfe, 0x68, 0x00, 0x3d, 0xd8, 0x00, 0xde]);
  assert.equal(new g.TextDecoder('utf-16le').decode(le), 'h😀');
  for (let i = 0; i <= le.length; i++) {
    const d = new g.TextDecoder('utf-16le');
    assert.equal(d.decode(le.subarray(0, i), { stream: true }) + d.decode(le.subarray(i)), 'h😀', `split at ${i}`);
  }
  assert.equal(new g.TextDecoder('utf-16be').decode(new Uint8Array([0x00, 0x68, 0x00])), 'h\ufffd');
  assert.throws(() => new g.TextDecoder('utf-16le', { fatal: true }).decode(new Uint8Array([0x00, 0xd8])), TypeError);
});

test('TextEncoderStream and TextDecoderStream', async () => {
  const enc = new g.TextEncoderStream();
  const encoded = (async () => {
    const chunks = [];
    for await (const c of enc.readable) chunks.push(...c);
    return chunks;
  })();
  const w = enc.writable.getWriter();
  await w.write('a\ud83d');
  await w.write('\ude00');
  await w.close();
  assert.deepEqual(await encoded, [...new TextEncoder().encode('a😀')]);

  const dec = new g.TextDecoderStream();
  const decoded = (async () => {
    let s = '';
    for await (const c of dec.readable) s += c;
    return s;
  })();
  const dw = dec.writable.getWriter();
  const bytes = new TextEncoder().encode('é😀');
  for (const b of bytes) await dw.write(new Uint8Array([b]));
  await dw.close();
  assert.equal(await decoded, 'é😀');
});

test('atob and btoa (forgiving base64, workerd errors; Node agrees)', () => {
  for (const s of ['', 'a', 'ab', 'abc', 'abcd', '\x00\xff\x80', 'héllo'.normalize('NFC')]) {
    assert.equal(g.btoa(s), btoa(s));
    assert.equal(g.atob(g.btoa(s)), s);
  }
  assert.equal(g.atob(' YW Jj\n'), 'abc');
  assert.equal(g.atob('YWI'), 'ab');
  assert.equal(g.atob('YQ=='), 'a');
  assert.equal(g.btoa(null), 'bnVsbA==');
  for (const bad of ['a', 'YQ=', 'YQ===', 'Y@==', 'é']) {
    assert.throws(() => g.atob(bad), (err) => err instanceof g.DOMException && err.name === 'InvalidCharacterError' && err.code === 5, bad);
    assert.throws(() => atob(bad), bad);
  }
  assert.throws(() => g.btoa('é€'), { name: 'InvalidCharacterError', message: 'btoa() can only operate on characters in the Latin1 (ISO/IEC 8859-1) range.' });
  assert.throws(() => g.atob(), TypeError);
  const big = 'x'.repeat(100000);
  assert.equal(g.atob(g.btoa(big)), big);
});
