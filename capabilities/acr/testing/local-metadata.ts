/**
 * The production RAM-role provider (`ecsRamRoleProvider`: @alicloud/credentials' ECS provider, IMDSv2
 * only), with its HTTP sent to a local metadata server instead of 100.100.100.200. The library has
 * no option for the address, but keeps its HTTP function on the instance (`doRequest`, "for mock"):
 * the wrapper checks each request was meant for the real metadata address, rewrites only scheme,
 * host and port, and calls the library's own function, so requests, headers, parsing and refresh
 * timing are the library's.
 */
import type { CredentialsProvider } from "@alicloud/credentials";
import { ecsRamRoleProvider, RamRoleProviderFactory } from "../acr-credentials";

const METADATA_ORIGIN = "http://100.100.100.200";

interface LibraryRequest {
  url?: string;
  toRequestURL(): string;
}
type DoRequest = (request: LibraryRequest) => Promise<unknown>;

export function localMetadataProvider(baseUrl: string): RamRoleProviderFactory {
  return (roleName: string): CredentialsProvider => {
    const provider = ecsRamRoleProvider(roleName);
    const internals = provider as unknown as { doRequest: DoRequest };
    const libraryDoRequest = internals.doRequest;
    internals.doRequest = request => {
      const target = request.toRequestURL();
      if (!target.startsWith(`${METADATA_ORIGIN}/`))
        throw new Error(`the provider asked ${target}, not the ECS metadata service`);
      request.url = baseUrl + target.slice(METADATA_ORIGIN.length);
      return libraryDoRequest(request);
    };
    return provider;
  };
}
