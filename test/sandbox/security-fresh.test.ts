// The hostile-program suite again, with a fresh bubblewrap per submission (the mode used
// where nested user namespaces are unavailable).
process.env.DATASCALE_TEST_SANDBOX_MODE = "fresh";
await import("./security.test.ts");
