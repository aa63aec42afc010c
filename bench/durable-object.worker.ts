/**
 * Reference for `npm run bench`: the store's round trip on Workers, without the ledger. `/call` calls one Durable
 * Object that does nothing; `/write` one that inserts a row into its SQLite storage (the least a reservation writes).
 * The ledger's own cost per signed request is what it adds beyond `/write`.
 */
import { DurableObject } from "cloudflare:workers";

export class ReferenceObject extends DurableObject<Record<string, never>> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Record<string, never>) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS rows (key TEXT PRIMARY KEY, bytes INTEGER NOT NULL)");
  }

  async call(): Promise<void> {}

  async write(key: string): Promise<void> {
    this.sql.exec("INSERT INTO rows VALUES (?, ?)", key, 123456);
  }
}

export default {
  async fetch(request: Request, env: { REFERENCE: DurableObjectNamespace<ReferenceObject> }): Promise<Response> {
    // One object, as the ledger's run books one user's uploads.
    const stub = env.REFERENCE.get(env.REFERENCE.idFromName("bench"));
    if (new URL(request.url).pathname === "/write") await stub.write(crypto.randomUUID());
    else await stub.call();
    return new Response("{}", { headers: { "content-type": "application/json" } });
  },
};
