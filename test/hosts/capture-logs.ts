/** As worker/test/capture-logs.ts, for the route suite on the other hosts: console captured, no secret in any line. */
import { captureConsole } from "../../worker/test/console-capture.js";

export const capturedLogs = captureConsole();
