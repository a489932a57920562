// Runs before each test file's modules: Pepr's logger reads LOG_LEVEL once, when first imported, and
// writes with pino straight to stdout (past jest's console buffering), so its per-request info lines
// would fill the output of every passing capability test.
process.env.LOG_LEVEL ??= "warn";
