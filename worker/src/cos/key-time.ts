/**
 * KeyTime (a.k.a. q-key-time / q-sign-time): `StartTimestamp;EndTimestamp` in Unix seconds ("Request Signature",
 * step 1). Time is always an input, never read from a clock here.
 */

export interface KeyTime {
  /** Unix seconds from which the signature is valid. */
  readonly start: number;
  /** Unix seconds after which COS refuses the signature. */
  readonly end: number;
}

export function formatKeyTime({ start, end }: KeyTime): string {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`KeyTime must be two whole Unix seconds with start <= end, got ${start};${end}`);
  }
  return `${start};${end}`;
}

/**
 * The KeyTime for a signature issued at `now` and valid for `ttlSeconds`. It starts `skewSeconds` in the past so
 * that a COS front end whose clock is slightly behind ours does not see a signature "from the future".
 */
export function keyTimeAt(now: Date, ttlSeconds: number, skewSeconds = 60): KeyTime {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  return { start: nowSeconds - skewSeconds, end: nowSeconds + ttlSeconds };
}
