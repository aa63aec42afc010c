/**
 * How a file is cut into parts, by COS's multipart rules (436/7750): every part but the last at least 1 MB, at most
 * 5 GB each, part numbers 1 to 10,000.
 */
export const DEFAULT_PART_SIZE = 5 * 1024 * 1024;
export const MIN_PART_SIZE = 1024 * 1024;
export const MAX_PARTS = 10_000;

export interface PartPlan {
  readonly size: number;
  readonly partSize: number;
  readonly partCount: number;
}

export const MAX_PART_SIZE = 5 * 1024 ** 3;

/** `requested` (default 5 MiB) bytes a part, raised to whole MiB until 10,000 parts hold the file. */
export function planParts(size: number, requested = DEFAULT_PART_SIZE): PartPlan {
  const partSize = Math.max(requested, Math.ceil(size / MAX_PARTS / MIN_PART_SIZE) * MIN_PART_SIZE);
  return { size, partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** The exact byte count of part `partNumber` (1-based): `partSize`, or what is left for the last one. */
export function partLength(plan: PartPlan, partNumber: number): number {
  return partNumber < plan.partCount ? plan.partSize : plan.size - plan.partSize * (plan.partCount - 1);
}
