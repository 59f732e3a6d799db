import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native Unicorn through koffi: separate processes keep one engine's failure from taking others down.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
