// Two projects: `numeric` (results against PyTorch fixtures and the reference)
// runs once per ISA cap; `api` (errors, async, workers, I/O, CLI) runs once.
const numeric = ['<rootDir>/test/parity.test.js', '<rootDir>/test/property.test.js', '<rootDir>/test/isa.test.js',
  '<rootDir>/test/family.test.js', '<rootDir>/test/transpose.test.js', '<rootDir>/test/tune.test.js',
  '<rootDir>/test/epilogue.test.js'];
module.exports = {
  projects: [
    { displayName: 'numeric', testEnvironment: 'node', testMatch: numeric },
    {
      displayName: 'api',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/**/*.test.js'],
      testPathIgnorePatterns: numeric.map((p) => p.replace('<rootDir>', '')),
    },
  ],
  testTimeout: 60000,
};
