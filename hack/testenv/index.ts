// The real-component test environment: import from "hack/testenv" in jest tests and the bench.
export * from "./processes";
export * from "./registry";
export * from "./oci-image";
export * from "./skopeo";
export * from "./containerd";
export * from "./agent";
export * from "./prom-text";
export * from "./tracker";
export * from "./token-issuer";
