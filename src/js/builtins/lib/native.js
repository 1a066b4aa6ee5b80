// The object the C++ side passes to install(): the only way this bundle reaches the host.
// One bundle instance is evaluated per V8 context, so this module-level binding is per context.
// The functions it must have are listed in ../README.md ("The contract with C++").

export let native = null;

export function setNative(n) {
  native = n;
}
