// Pepr's logger reads LOG_LEVEL once, when it is first imported: import this module before pepr so
// the mutate processor's per-request info lines stay out of the test output.
process.env.LOG_LEVEL ??= "warn";
export {};
