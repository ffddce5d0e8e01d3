// The banner that says what a panel could not read (a truncated metrics line, a corrupt .npy,
// NaN values). Problems are deduplicated and shown together; the rest of the panel still renders.

export class ProblemList {
  readonly element: HTMLElement;
  private readonly items = new Map<string, string[]>();

  constructor(parent: HTMLElement) {
    this.element = document.createElement('div');
    this.element.className = 'problems';
    this.element.setAttribute('role', 'status');
    parent.append(this.element);
  }

  /** Replaces the problems of one source (e.g. 'metrics', 'sample', 'nan'). */
  set(source: string, problems: string[]): void {
    this.items.set(source, problems);
    this.render();
  }

  add(source: string, problems: string[]): void {
    this.items.set(source, [...(this.items.get(source) ?? []), ...problems]);
    this.render();
  }

  all(): string[] {
    return [...new Set([...this.items.values()].flat())];
  }

  private render(): void {
    const all = this.all();
    this.element.textContent = all.length === 0 ? '' : `Could not read everything:\n• ${all.join('\n• ')}`;
  }
}
