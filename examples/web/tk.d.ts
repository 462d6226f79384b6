/** The examples' .tk sources, bundled as text by esbuild (examples/web/build.ts). */
declare module '*.tk' {
  const source: string;
  export default source;
}
