import { PeprModule } from "pepr";
import cfg from "./package.json";
import { PodMirror } from "./capabilities";

new PeprModule(cfg, [PodMirror]);
