// The contract's request and response types, named: every one comes from src/generated/openapi.ts
// (openapi-typescript over openapi.json), so a change of the API changes them on regeneration.
import type { components, operations } from "./generated/openapi.js";

type Schemas = components["schemas"];

export type CreateUploadRequest = Schemas["CreateUploadRequest"];
export type CreateUploadResponse = Schemas["CreateUploadResponse"];
export type MultipartGrant = Schemas["MultipartGrant"];
export type PartUrl = Schemas["PartUrl"];
export type RenewPartsRequest = Schemas["RenewPartsRequest"];
export type RenewPartsResponse = Schemas["RenewPartsResponse"];
export type CompleteUploadRequest = Schemas["CompleteUploadRequest"];
export type CompletedPart = Schemas["CompletedPart"];
/** What `client.upload()` resolves to: the completion's answer. */
export type CompletedUpload = Schemas["CompleteUploadResponse"];
export type UploadStatus = Schemas["UploadStatus"];
export type UploadList = Schemas["UploadList"];
export type DownloadsRequest = Schemas["DownloadsRequest"];
export type DownloadsResponse = Schemas["DownloadsResponse"];
export type DownloadItem = Schemas["DownloadItem"];
export type CreateShareRequest = Schemas["CreateShareRequest"];
export type CreateShareResponse = Schemas["CreateShareResponse"];
export type ShareInfo = Schemas["ShareInfo"];
export type ShareList = Schemas["ShareList"];
export type ErrorBody = Schemas["ErrorBody"];
export type UploadListQuery = NonNullable<operations["list_uploads_uploads_get"]["parameters"]["query"]>;
export type ShareListQuery = NonNullable<operations["list_shares_shares_get"]["parameters"]["query"]>;
export type { ErrorCode } from "./generated/error-codes.js";
export type { components, operations, paths } from "./generated/openapi.js";
