/**
 * The ledger: every object a user starts, per profile; its stores are durable-object.ts (Workers), redis.ts and
 * sqlite.ts (Node).
 */
export * from "./books.js";
