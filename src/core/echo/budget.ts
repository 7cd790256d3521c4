// How many echoes are recording or waiting to play back (bounded by cfg.echo.maxRecordings).

export class EchoBudget {
  private n = 0;

  get active(): number {
    return this.n;
  }

  take(): void {
    this.n++;
  }

  release(): void {
    this.n--;
  }
}
