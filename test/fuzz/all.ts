// `npm run fuzz`: the HTTP fuzz, then the control fuzz over both adapters, from one seed (printed,
// so a failing run replays): node --expose-gc --import tsx test/fuzz/all.ts [--seed S] [--count N]
// Each failure line names its replay: test/fuzz/http.ts or test/fuzz/control.ts with --seed and --case.
import { type Adapter, fuzzControl, summary as controlSummary } from './control.js';
import { fuzzHttp, numberOption, summary as httpSummary } from './http.js';

async function main(argv: string[]): Promise<void> {
  const seed = numberOption(argv, '--seed') ?? Date.now() % 1_000_000;
  const count = numberOption(argv, '--count') ?? 5000;
  console.log(`fuzz seed ${seed}, ${count} cases per part`);
  const http = await fuzzHttp({ seed, count });
  console.log(httpSummary(http));
  for (const failure of http.failures) console.log(`  FAIL test/fuzz/http.ts ${failure}`);
  let failures = http.failures.length;
  for (const adapter of ['websocket', 'ipc'] as Adapter[]) {
    const report = await fuzzControl(adapter, { seed, count });
    console.log(controlSummary(report));
    for (const failure of report.failures) console.log(`  FAIL test/fuzz/control.ts --adapter ${failure}`);
    failures += report.failures.length;
  }
  console.log(failures === 0 ? 'fuzz: no failures' : `fuzz: ${failures} failures (seed ${seed})`);
  process.exitCode = failures === 0 ? 0 : 1;
}

void main(process.argv.slice(2));
