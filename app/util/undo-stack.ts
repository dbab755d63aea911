/**
 * What a start made of several steps has opened so far (pools, connections, servers, timers, workers), to close in
 * reverse order when a later step fails: without it a failed start leaves them open and the process never exits.
 */
export class UndoStack {
  private readonly steps: Array<{ what: string; undo: () => unknown }> = [];

  /** `undo` closes `what`; it runs only if the start fails, and must be safe on a part whose own start failed. */
  push(what: string, undo: () => unknown): void {
    this.steps.push({ what, undo });
  }

  /** Runs every undo, last pushed first; one that fails is reported and the others still run. */
  async unwind(onError: (what: string, err: Error) => void): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.undo();
      } catch (err) {
        onError(step.what, err as Error);
      }
    }
  }
}
