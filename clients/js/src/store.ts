// Resume records: what a client needs to continue an upload after a reload or a restart, and
// nothing that is a credential. Never a URL (presigned URLs are credentials until they expire), a
// token or a signature: the upload id, the Idempotency-Key and the exact create body (a single PUT's
// URL can only be had again by replaying the create), and the parts already stored.
import type { CompletedPart, CreateUploadRequest } from "./types.js";

export interface ResumeRecord {
  v: 1;
  /** Sent with every attempt of the create, and with its replay on resume. */
  idempotency_key: string;
  /** The exact body of `POST /uploads`: a replay with another body would be refused (422). */
  request: CreateUploadRequest;
  /** Known once the create has answered. */
  upload_id?: string;
  /** Parts stored so far (their ETags and, with part checksums, their SHA-256). */
  parts: CompletedPart[];
  /** ISO 8601, when the record was made. */
  created_at: string;
}

/** Where resume records live: IndexedDB in a browser, files in Node; any key-value store will do
 * (React Native's AsyncStorage, a database): implement these three methods. */
export interface ResumeStore {
  get(key: string): Promise<ResumeRecord | undefined>;
  set(key: string, record: ResumeRecord): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Records in memory: resumes within one page or process only. */
export function memoryStore(): ResumeStore {
  const records = new Map<string, string>();
  return {
    get: async (key) => {
      const text = records.get(key);
      return text === undefined ? undefined : (JSON.parse(text) as ResumeRecord);
    },
    set: async (key, record) => void records.set(key, JSON.stringify(record)),
    delete: async (key) => void records.delete(key),
  };
}
