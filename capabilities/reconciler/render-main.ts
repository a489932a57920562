/** Entry point of `peerpull-render` (built to build/peerpull-render.js). */
import { render } from "./render";

render(process.argv.slice(2)).then(
  ({ code, stdout, stderr }) => {
    process.stdout.write(stdout);
    process.stderr.write(stderr);
    process.exitCode = code;
  },
  err => {
    process.stderr.write(`peerpull-render: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  },
);
