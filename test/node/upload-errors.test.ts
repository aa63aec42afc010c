/** The Mini Program library's reading of COS XML errors and wx failures: code, message, advice, retryable. */
import { describe, expect, it } from "vitest";
import { adviceFor } from "../../miniprogram/cos-upload/advice";
import { cosError, networkError } from "../../miniprogram/cos-upload/errors";

const xml = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${code}</Code>\n  <Message>${message}</Message>\n  <RequestId>x</RequestId>\n</Error>`;

describe("COS errors", () => {
  const cases: [number, string, RegExp][] = [
    [403, "SignatureDoesNotMatch", /does not match what the signer signed/],
    [403, "RequestTimeTooSkewed", /clock is wrong/],
    [400, "EntityTooLarge", /larger than this upload allows/],
    [403, "AccessDenied", /expired \(retry\)/],
    [403, "PathStyleDomainForbidden", /COS_PATH_STYLE=false/],
    [409, "FileAlreadyExists", /already exists/],
  ];
  for (const [status, code, advice] of cases) {
    it(`${status} ${code}: typed, with advice, not retried`, () => {
      const error = cosError(status, xml(code, "COS says no"));
      expect(error).toMatchObject({ code, status, source: "cos", message: "COS says no", retryable: false });
      expect(adviceFor(error)).toMatch(advice);
    });
  }

  it("5xx is retryable; a body that is not COS XML still gives a code", () => {
    expect(cosError(503, xml("ServiceUnavailable", "slow down")).retryable).toBe(true);
    const bare = cosError(502, "<html>Bad Gateway</html>");
    expect(bare).toMatchObject({ code: "http_502", message: "HTTP 502", retryable: true });
  });
});

describe("wx failures", () => {
  it("timeouts and network errors are retryable, an abort is not", () => {
    expect(networkError("request:fail timeout")).toMatchObject({ code: "timeout", retryable: true });
    expect(networkError("uploadFile:fail connect ECONNREFUSED")).toMatchObject({ code: "network_error", retryable: true });
    expect(networkError("uploadFile:fail abort")).toMatchObject({ code: "aborted", retryable: false });
  });
});
