// Test helpers: the bundle (what ships) loaded as a fresh module instance and installed on a
// fresh plain object with a `native` written with Node APIs. Set DURO_BUILTINS_JS to test a
// bundle built elsewhere (CMake does); otherwise the bundle is built into a temp file.
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);

let bundlePath = process.env.DURO_BUILTINS_JS;
if (!bundlePath) {
  bundlePath = path.join(os.tmpdir(), `duro_builtins_test_${process.pid}.mjs`);
  execFileSync(process.execPath, [path.join(root, 'build.mjs'), bundlePath], { stdio: 'inherit' });
  process.on('exit', () => fs.rmSync(bundlePath, { force: true }));
}
export { bundlePath };

const nodeEncoder = new TextEncoder();

// A `native` object as the C++ side provides it, made of Node APIs. Records logs, reported
// errors and timer callback exceptions.
export function makeNative() {
  const logs = [];
  const errors = [];
  const timers = new Map();
  let nextTimer = 1;
  const run = (cb) => {
    try {
      cb();
    } catch (err) {
      errors.push(err);
    }
  };
  const native = {
    utf8Encode: (s) => nodeEncoder.encode(s),
    utf8EncodeInto: (s, u8) => {
      const r = nodeEncoder.encodeInto(s, u8);
      return [r.read, r.written];
    },
    utf8Decode: (bytes, fatal, ignoreBOM) => new TextDecoder('utf-8', { fatal, ignoreBOM }).decode(bytes),
    getRandomValues: (a) => webcrypto.getRandomValues(a),
    randomUUID: () => webcrypto.randomUUID(),
    digest: (alg, bytes) => {
      const h = createHash(alg.replace('-', '').toLowerCase()).update(bytes).digest();
      return h.buffer.slice(h.byteOffset, h.byteOffset + h.byteLength);
    },
    hmac: (alg, key, bytes) => {
      const h = createHmac(alg.replace('-', '').toLowerCase(), key).update(bytes).digest();
      return h.buffer.slice(h.byteOffset, h.byteOffset + h.byteLength);
    },
    serialize: (v) => {
      const b = v8.serialize(v);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    },
    deserialize: (ab) => v8.deserialize(Buffer.from(ab)),
    log: (level, message) => logs.push([level, message]),
    setTimer: (cb, ms, repeat) => {
      const id = nextTimer++;
      const h = repeat ? setInterval(() => run(cb), ms) : setTimeout(() => {
        timers.delete(id);
        run(cb);
      }, ms);
      timers.set(id, h);
      return id;
    },
    clearTimer: (id) => {
      const h = timers.get(id);
      if (h !== undefined) {
        clearTimeout(h);
        clearInterval(h);
        timers.delete(id);
      }
    },
    enqueueMicrotask: (fn) => queueMicrotask(fn),
    reportError: (err) => errors.push(err),
    now: () => Date.now(),
  };
  return { native, logs, errors, timers };
}

let instances = 0;

// { g, mod, native, logs, errors }: a fresh bundle instance installed on a fresh object.
export async function setup() {
  const mod = await import(`${pathToFileURL(bundlePath).href}?instance=${++instances}`);
  const g = {};
  const shim = makeNative();
  mod.install(g, shim.native);
  return { g, mod, ...shim };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
