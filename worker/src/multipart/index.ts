/** Multipart uploads: the part plan, the upload token, and the Worker's calls to COS for each step. */
export { DEFAULT_PART_SIZE, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, partLength, type PartPlan, planParts } from "./parts.js";
export { issueUploadToken, type UploadClaims, UPLOAD_TOKEN_TTL_SECONDS, verifyUploadToken } from "./token.js";
export {
  abortUpload,
  checkPartNumbers,
  type CompletedUpload,
  completeUpload,
  initiateUpload,
  listParts,
  MAX_PARTS_PER_CALL,
  PART_SIGNATURE_TTL_SECONDS,
  type SignedPart,
  signParts,
  type StoredPart,
} from "./upload.js";
