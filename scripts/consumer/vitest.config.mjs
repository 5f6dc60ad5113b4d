// The TypeScript tests only, not their compiled copies under out/.
export default { test: { include: ["{test,docs,examples}/**/*.test.ts"] } }
