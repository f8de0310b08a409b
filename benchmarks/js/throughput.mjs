// One upload of FILE with @presign/client from Node, timed from the call to the completed record
// (the create, the parts, the completion; not Node's start): prints {"seconds": ...}.
// benchmarks/bench_clients_js.py runs it against make dev, alternating with boto3's upload_file.
//
//   PRESIGN_CLIENT=clients/js/dist/node.js PRESIGN_URL=... TOKEN=... FILE=... node throughput.mjs
const { createClient } = await import(process.env.PRESIGN_CLIENT);
const client = createClient({ baseUrl: process.env.PRESIGN_URL, token: process.env.TOKEN });
const started = performance.now();
const done = await client.upload(process.env.FILE, { concurrency: Number(process.env.CONCURRENCY ?? 4) });
const seconds = (performance.now() - started) / 1000;
if (done.status !== "complete") throw new Error(`not completed: ${JSON.stringify(done)}`);
console.log(JSON.stringify({ seconds, size: done.size, upload_id: done.upload_id }));
