import { expect, test } from "vitest";
import { AuthFailureThrottle } from "./auth-throttle";

test("a client is throttled after `burst` failures and recovers at the refill rate", () => {
  const throttle = new AuthFailureThrottle({ burst: 3, perMinute: 60 });
  const t0 = 1_000_000;
  for (let i = 0; i < 3; i++) {
    expect(throttle.retryAfterSeconds("a", t0)).toBe(0);
    throttle.failed("a", t0);
  }
  expect(throttle.retryAfterSeconds("a", t0)).toBe(1);
  expect(throttle.retryAfterSeconds("b", t0)).toBe(0);
  // One attempt a second comes back.
  expect(throttle.retryAfterSeconds("a", t0 + 1000)).toBe(0);
  throttle.failed("a", t0 + 1000);
  expect(throttle.retryAfterSeconds("a", t0 + 1000)).toBe(1);
  // A full bucket is forgotten.
  expect(throttle.retryAfterSeconds("a", t0 + 10_000)).toBe(0);
});

test("Retry-After grows with the refill time", () => {
  const throttle = new AuthFailureThrottle({ burst: 1, perMinute: 6 });
  throttle.failed("a", 0);
  expect(throttle.retryAfterSeconds("a", 0)).toBe(10);
  expect(throttle.retryAfterSeconds("a", 5000)).toBe(5);
});

test("memory is bounded", () => {
  const throttle = new AuthFailureThrottle({ burst: 1, perMinute: 1, maxClients: 10 });
  for (let i = 0; i < 100; i++) throttle.failed(`c${i}`, 0);
  expect(throttle.retryAfterSeconds("c0", 0)).toBe(0);
  expect(throttle.retryAfterSeconds("c99", 0)).toBeGreaterThan(0);
});
