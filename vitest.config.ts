import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

// Two tiers, as vitest projects (README, "Working on dmrhub"):
//  - fast: unit, property, architecture, golden replay and simulation tests, straight from the
//    TypeScript sources: no build, no server process, no broker. `npm run test:fast`. The
//    simulation files and the links property file run here in a lighter form (TEST_TIER=fast).
//  - slow: everything that runs the build in dist/: the end-to-end tests (the server as a child
//    process, real UDP on 127.0.0.1), the reporting sink tests, which load dist/workers/ into
//    real piscina threads (the MQTT one against a private mosquitto), and the packaging test.
//    Beside it, in the same group, `heavy`: the full simulations and the thousand random runs of
//    the links property (TEST_TIER=slow). `npm test` builds first.
// `npm test` runs all three, fast first. The fast tier is CPU-bound, so it gets at least two
// workers even where vitest's default (one less than the number of cores) would give it one.
const fastWorkers = Math.max(2, availableParallelism() - 1);

// Unit tests that need the build: the sink tests load dist/workers/ into threads, and the packaging
// test lists what `npm pack` would ship from dist/ and verifies the unit file against dist's main.
const BUILT_TESTS = ['test/unit/mqtt-sink.test.ts', 'test/unit/sqlite-sink.test.ts', 'test/unit/packaging.test.ts'];

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
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
          env: { TEST_TIER: 'slow' },
        },
      },
      {
        // The heavy runs of the simulations and the links property: CPU-bound, no timers, no
        // sockets. They run beside the slow tier (same group), one file at a time, so on two
        // cores the e2e files, which mostly wait on real timers, keep a core to themselves.
        extends: true,
        test: {
          name: 'heavy',
          include: ['test/sim/**/*.test.ts', 'test/property/links.property.test.ts'],
          maxWorkers: 1,
          testTimeout: 300_000,
          sequence: { groupOrder: 1 },
          env: { TEST_TIER: 'slow' },
        },
      },
    ],
  },
});
