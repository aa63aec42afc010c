/** A receipt webhook on 127.0.0.1 that keeps every body it is sent, in order, and answers 200. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface WebhookSink {
  /** The hook's URL, for RECEIPT_WEBHOOK_URL. */
  readonly url: string;
  /** Every body received so far. */
  readonly events: string[];
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const events: string[] = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    events.push(body);
    res.writeHead(200).end();
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    events,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
