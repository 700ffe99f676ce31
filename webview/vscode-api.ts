/** The webview side of VS Code's messaging and state API, typed by the page's messages (webview/protocol.ts) and state. */
export interface VsCodeApi<ToHost, State> {
  postMessage(message: ToHost): void;
  getState(): State | undefined;
  setState(state: State): void;
}
declare function acquireVsCodeApi(): unknown;

/** VS Code's API for this page (acquireVsCodeApi may be called once per page load). */
export function vscodeApi<ToHost, State>(): VsCodeApi<ToHost, State> {
  return acquireVsCodeApi() as VsCodeApi<ToHost, State>;
}
