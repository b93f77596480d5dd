declare module "*.sql" {
  const text: string;
  export default text;
}

/** Files imported `with { type: "file" }` resolve to a path (embedded into the compiled binary). */
declare module "*/standalone.js" {
  const path: string;
  export default path;
}
