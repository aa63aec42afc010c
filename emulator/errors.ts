/** COS-style XML errors (Tencent "Error Codes", 436/7730): `<Error><Code/><Message/>…</Error>`. */

export class CosError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra elements COS adds to help debugging, e.g. StringToSign and FormatString on SignatureDoesNotMatch. */
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const ENTITIES: Record<string, string> = { "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" };

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ENTITIES[c]!);
}

export function errorXml(error: CosError, resource: string, requestId: string): string {
  const extra = Object.entries(error.details)
    .map(([name, value]) => `\n  <${name}>${escapeXml(value)}</${name}>`)
    .join("");
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${error.code}</Code>\n  <Message>${escapeXml(error.message)}</Message>` +
    `\n  <Resource>${escapeXml(resource)}</Resource>\n  <RequestId>${requestId}</RequestId>${extra}\n</Error>\n`
  );
}
