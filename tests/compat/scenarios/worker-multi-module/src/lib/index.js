// Re-exports, so that callers import from one place.
export { sum, mean } from "./math.js";
export * from "./format.js";
export { default as clamp } from "./math.js";
