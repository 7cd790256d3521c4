// Prints one plain closing line from vitest's JSON report, so any log reader can count the run.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync('.test-results.json', 'utf8'));
const passed = report.numPassedTests ?? 0;
const failed = report.numFailedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
