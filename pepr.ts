import { PeprModule } from "pepr";
import cfg from "./package.json";
import { PodMirror, Reconciler } from "./capabilities";

new PeprModule(cfg, [PodMirror, Reconciler]);
