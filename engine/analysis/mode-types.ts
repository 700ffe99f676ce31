/**
 * The four reasoning modes' names (docs/analyses.md §Four reasoning modes; modes.ts holds the definition). Types only:
 * the wire types of the interventions (engine/intervene/intervene-protocol.ts) name them, and webview/ reaches them.
 */
export type ReasoningMode = 'trivial-success' | 'non-trivial-success' | 'trivial-failure' | 'non-trivial-failure';
