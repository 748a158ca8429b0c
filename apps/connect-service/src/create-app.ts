// The HTTP setup lives in http/; this path stays for callers that built against it (CLIs, benches, suites).
export { buildOpenApiDocument, createApp } from './http/create-app';
