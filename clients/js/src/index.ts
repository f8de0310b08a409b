// @presign/client in a browser (or any runtime with fetch and Blob): `createClient` with
// XMLHttpRequest for the storage and IndexedDB for resume records. Node gets ./node.js instead
// (package.json's "node" condition): the same client, plus file paths and a file store.
import { browserPlatform } from "./browser.js";
import { createClientWith, type ClientOptions, type PresignClient } from "./client.js";

export function createClient(options: ClientOptions): PresignClient<Blob> {
  return createClientWith(browserPlatform(), options);
}

export { blobSource, fetchPut, indexedDbStore, xhrPut } from "./browser.js";
export * from "./common.js";
