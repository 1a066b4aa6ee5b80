import clamp, { mean } from "./math.js";

export function summary(values) {
  return `n=${values.length} mean=${mean(values)} clamped=${clamp(mean(values), 0, 10)}`;
}
