/**
 * The upload for bench:dnc-import, in a process of its own: streams `count` generated US numbers (one per line,
 * all distinct and valid) as text/plain to POST /v1/dnc/imports, printing the server's summary as one JSON line.
 *   tsx bench/load/dnc-upload.ts <base url> <api key> <count> [path and query; default a registry list import]
 */
import http from 'node:http';

const NPAS = ['202', '206', '303', '312', '415', '512', '617', '713', '813', '917', '305', '404'];

function* numbers(count: number): Generator<string> {
  let n = 0;
  for (const npa of NPAS) {
    for (let nxx = 200; nxx <= 999; nxx++) {
      if (nxx % 100 === 11) continue; // N11 is a service code
      for (let line = 0; line < 10_000; line++) {
        if (n++ >= count) return;
        yield `+1${npa}${nxx}${String(line).padStart(4, '0')}\n`;
      }
    }
  }
}

async function main(): Promise<void> {
  const [base, key, countArg, target] = process.argv.slice(2) as [string, string, string, string | undefined];
  const count = Number(countArg);
  const url = new URL(target ?? '/v1/dnc/imports?list=registry&source=bench', base);
  const summary = await new Promise<string>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 201 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
    });
    req.on('error', reject);
    const gen = numbers(count);
    const pump = (): void => {
      for (;;) {
        let chunk = '';
        for (let i = 0; i < 5000; i++) {
          const next = gen.next();
          if (next.done) {
            if (chunk) req.write(chunk);
            req.end();
            return;
          }
          chunk += next.value;
        }
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  process.stdout.write(`${summary.trim()}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`upload failed: ${err.message}\n`);
  process.exit(1);
});
