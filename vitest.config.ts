import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

// Two tiers, as vitest projects (README, "Working on dmrhub"):
//  - fast: unit, property, architecture, golden replay and simulation tests, straight from the
//    TypeScript sources: no build, no server process, no broker. `npm run test:fast`. The
//    simulation files and the links property file run here in a lighter form (TEST_TIER=fast).
//  - slow: everything that runs the build in dist/: the end-to-end tests (the server as a child
//    process, real UDP on 127.0.0.1), the reporting sink tests, which load dist/workers/ into
//    real piscina threads (the MQTT one against a private mosquitto), and the packaging test.
//    Three files at a time: an e2e file mostly waits on the server's timers. Beside them, in the
//    same group and pool (vitest wants one worker count per group), `heavy`: the full
//    simulations and the thousand random runs of the links property (TEST_TIER=slow). After
//    them, `alone`: the e2e files that load the machine on purpose. `npm test` builds first.
// `npm test` runs them all, fast first. The fast tier is CPU-bound, so it gets at least two
// workers even where vitest's default (one less than the number of cores) would give it one.
const fastWorkers = Math.max(2, availableParallelism() - 1);

// Unit tests that need the build: the sink tests load dist/workers/ into threads, and the packaging
// test lists what `npm pack` would ship from dist/ and verifies the unit file against dist's main.
const BUILT_TESTS = ['test/unit/mqtt-sink.test.ts', 'test/unit/sqlite-sink.test.ts', 'test/unit/packaging.test.ts'];

// End-to-end files that load the machine on purpose (a flood of logins, a storm of calls), and one
// that checks a call's duration as the server measured it against the test's own 20 ms pacing
// (sqlite: it failed once beside the browser test): they run last, one at a time, with nothing
// beside them, so they neither slow the others' timers nor measure a loaded machine.
const ALONE = ['test/e2e/login-hardening.e2e.test.ts', 'test/e2e/overload.e2e.test.ts', 'test/e2e/sqlite.e2e.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results.json' },
    // `npm run coverage`: the fast tier, measured in-process by V8. The e2e tests run the built
    // server in a child process and the sink tests run dist/workers/ in threads; neither is seen.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'workers/**/*.ts'],
      reporter: ['text', 'text-summary', 'html', 'json-summary'],
      reportsDirectory: 'coverage',
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['test/{unit,property,arch,replay,sim}/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...BUILT_TESTS],
          maxWorkers: fastWorkers,
          // One module cache per worker instead of one per file: about 10 s less CPU per run. A
          // test here must not change module state it imports (a shared default config, say).
          isolate: false,
          sequence: { groupOrder: 0 },
          // The simulations run their heavier seeds in the slow tier (TEST_TIER, read by test/sim).
          env: { TEST_TIER: 'fast' },
        },
      },
      {
        extends: true,
        test: {
          name: 'slow',
          include: ['test/e2e/**/*.test.ts', ...BUILT_TESTS],
          exclude: [...configDefaults.exclude, ...ALONE],
          maxWorkers: 3,
          sequence: { groupOrder: 1 },
          env: { TEST_TIER: 'slow' },
        },
      },
      {
        extends: true,
        test: {
          name: 'alone',
          include: ALONE,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
          env: { TEST_TIER: 'slow' },
        },
      },
      {
        // The heavy runs of the simulations and the links property: CPU-bound, no timers, no
        // sockets. They share the slow tier's group and its three workers (they start first and
        // take about 17 s; the e2e files, which mostly wait on real timers, go on beside them).
        extends: true,
        test: {
          name: 'heavy',
          include: ['test/sim/**/*.test.ts', 'test/property/links.property.test.ts'],
          maxWorkers: 3,
          testTimeout: 300_000,
          sequence: { groupOrder: 1 },
          env: { TEST_TIER: 'slow' },
        },
      },
    ],
  },
});
