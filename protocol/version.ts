/** The release every binary reports with `--version`: package.json's, bundled in at build time. */
import { version } from "../package.json";

export const PEERPULL_VERSION: string = version;
