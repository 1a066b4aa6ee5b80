// How console shows the Web API objects: their attributes (the enumerable getters of their
// prototypes), or their entries for Headers and URLSearchParams, like workerd.

import { customInspectSymbol, inspect } from './inspect.js';

// An empty class named `name`, so inspect() prints "Name { ... }".
function namedClass(name) {
  return { [name]: class {} }[name];
}

// Shows an instance of `cls` as its getters' values.
export function inspectGetters(cls) {
  const Shown = namedClass(cls.name);
  Object.defineProperty(cls.prototype, customInspectSymbol, {
    configurable: true,
    writable: true,
    value: function () {
      const shown = new Shown();
      for (let p = Object.getPrototypeOf(this); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
        for (const key of Object.getOwnPropertyNames(p)) {
          const d = Object.getOwnPropertyDescriptor(p, key);
          if (d.get === undefined || !d.enumerable || key in shown) continue;
          try {
            shown[key] = this[key];
          } catch {
            // an attribute that throws is left out
          }
        }
      }
      return shown;
    },
  });
}

// Shows an iterable of [key, value] pairs like a Map: "Headers(2) { 'a' => '1', ... }".
export function inspectEntries(cls) {
  Object.defineProperty(cls.prototype, customInspectSymbol, {
    configurable: true,
    writable: true,
    value: function () {
      const parts = [];
      for (const [k, v] of this) parts.push(`${inspect(k)} => ${inspect(v)}`);
      if (parts.length === 0) return `${cls.name}(0) {}`;
      const oneLine = `${cls.name}(${parts.length}) { ${parts.join(', ')} }`;
      return oneLine.length <= 76 ? oneLine : `${cls.name}(${parts.length}) {\n  ${parts.join(',\n  ')}\n}`;
    },
  });
}
