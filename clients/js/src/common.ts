// What both entry points export besides their createClient.
export { createClientWith, type ClientOptions, type PresignClient } from "./client.js";
export { ApiError, Interrupted, NetworkError, PresignError, StorageError, UploadRejected } from "./errors.js";
export type { Platform, Put, PutAnswer, Source } from "./platform.js";
export { memoryStore, type ResumeRecord, type ResumeStore } from "./store.js";
export type { UploadEvent, UploadOptions } from "./upload.js";
export type * from "./types.js";
