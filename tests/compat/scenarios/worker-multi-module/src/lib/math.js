export function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}

export const mean = (values) => (values.length ? sum(values) / values.length : 0);

export default function clamp(x, lo, hi) {
  return Math.min(hi, Math.max(lo, x));
}
