/** Content moderation: checks submitted at settling, verdicts applied, nothing unpassed served. */
export * from "./checks.js";
