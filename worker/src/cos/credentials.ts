/** A COS key pair. `securityToken` is present only for temporary (STS) credentials. */
export interface Credentials {
  readonly secretId: string;
  readonly secretKey: string;
  readonly securityToken?: string;
}

/** The header, query parameter and form field that carry a temporary credential's token. It is never signed. */
export const SECURITY_TOKEN_FIELD = "x-cos-security-token";

/** The unsigned header a request made with temporary credentials must add (none for a permanent key). */
export function securityTokenHeaders(credentials: Credentials): Record<string, string> {
  return credentials.securityToken ? { [SECURITY_TOKEN_FIELD]: credentials.securityToken } : {};
}
