/** `import text from "./file?raw"` (vite): the file's text, e.g. wrangler.toml in the rate-limit test. */
declare module "*?raw" {
  const text: string;
  export default text;
}
