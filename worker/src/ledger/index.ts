/** The ledger: every object a user starts, per profile; its stores are durable-object.ts (Workers) and redis.ts (Node). */
export * from "./books.js";
