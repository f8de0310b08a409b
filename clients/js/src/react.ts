// useUpload(): one file's upload as React state, with pause (an interrupt: the resume record stays),
// resume (the same file again: only what is missing is sent) and cancel (the upload is deleted).
//
//   const { state, progress, upload, pause, resume, cancel } = useUpload(client, { kind: "avatar" });
//   <input type="file" onChange={(e) => upload(e.target.files[0])} />
import { useCallback, useEffect, useRef, useState } from "react";
import type { PresignClient } from "./client.js";
import type { CompletedUpload } from "./types.js";
import type { UploadOptions } from "./upload.js";

export type UploadState = "idle" | "uploading" | "paused" | "complete" | "failed" | "canceled";

export interface UseUpload<Input> {
  state: UploadState;
  /** Bytes sent and the total (from real bytes sent; it never goes back). */
  progress: { sent: number; total: number };
  uploadId: string | null;
  result: CompletedUpload | null;
  error: Error | null;
  /** Starts (or, for a file begun before, continues) an upload; resolves to the completed record,
   * or null if it was paused, canceled or failed (then `error` says why). */
  upload(input: Input, options?: UploadOptions): Promise<CompletedUpload | null>;
  /** Interrupts: nothing is deleted, `resume()` goes on. */
  pause(): void;
  /** The paused (or failed) file again: only its missing parts are sent. */
  resume(): Promise<CompletedUpload | null>;
  /** Stops and deletes the upload (`DELETE /uploads/{id}`) and its resume record. */
  cancel(): Promise<void>;
}

export function useUpload<Input>(client: PresignClient<Input>, defaults: UploadOptions = {}): UseUpload<Input> {
  const [state, setState] = useState<UploadState>("idle");
  const [progress, setProgress] = useState({ sent: 0, total: 0 });
  const [uploadId, setUploadId] = useState<string | null>(null);
  const [result, setResult] = useState<CompletedUpload | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const current = useRef<{ input: Input; options: UploadOptions; controller: AbortController; canceled?: boolean } | null>(null);
  const live = useRef(true);
  const settings = useRef(defaults);
  settings.current = defaults;

  // Leaving the page or unmounting interrupts, as a pause does: the next upload() of the file resumes.
  useEffect(() => {
    live.current = true;
    return () => {
      live.current = false;
      current.current?.controller.abort();
    };
  }, []);

  const upload = useCallback(
    async (input: Input, options: UploadOptions = {}) => {
      const run = { input, options, controller: new AbortController() };
      current.current?.controller.abort();
      current.current = run;
      const set = <T>(setter: (value: T) => void, value: T) => live.current && current.current === run && setter(value);
      set(setState, "uploading");
      set(setError, null);
      set(setResult, null);
      const merged = { ...settings.current, ...options };
      try {
        const done = await client.upload(input, {
          ...merged,
          signal: run.controller.signal,
          onProgress: (sent, total) => {
            set(setProgress, { sent, total });
            merged.onProgress?.(sent, total);
          },
          onEvent: (event) => {
            if (event.type === "created" || event.type === "resumed") set(setUploadId, event.uploadId);
            merged.onEvent?.(event);
          },
        });
        set(setResult, done);
        set(setState, "complete");
        return done;
      } catch (caught) {
        if (!run.controller.signal.aborted) {
          set(setError, caught as Error);
          set(setState, "failed");
        } else if (!(run as { canceled?: boolean }).canceled) set(setState, "paused");
        return null;
      }
    },
    [client],
  );

  const pause = useCallback(() => current.current?.controller.abort(), []);

  const resume = useCallback(async () => {
    const run = current.current;
    return run ? upload(run.input, run.options) : null;
  }, [upload]);

  const cancel = useCallback(async () => {
    const run = current.current;
    if (!run) return;
    run.canceled = true;
    run.controller.abort();
    await client.cancel(run.input, { ...settings.current, ...run.options });
    if (live.current && current.current === run) setState("canceled");
  }, [client]);

  return { state, progress, uploadId, result, error, upload, pause, resume, cancel };
}
