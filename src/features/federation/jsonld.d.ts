/** The few parts of jsonld@9 (untyped) that ld-signatures.ts uses. */
declare module "jsonld" {
  export interface RemoteDocument {
    contextUrl: string | null;
    documentUrl: string;
    document: unknown;
  }
  export interface CanonizeOptions {
    algorithm?: string;
    format?: "application/n-quads";
    documentLoader?: (url: string) => Promise<RemoteDocument>;
    safe?: boolean;
    canonizeOptions?: { maxWorkFactor?: number; maxDeepIterations?: number; signal?: AbortSignal };
  }
  const jsonld: {
    canonize(input: unknown, options?: CanonizeOptions): Promise<string>;
  };
  export default jsonld;
}
