import { Injectable } from '@nestjs/common';

/**
 * Whether this replica is draining (SIGTERM received). Readiness answers 503 from the first moment of the drain,
 * so the load balancer stops sending while in-flight requests and running jobs finish.
 */
@Injectable()
export class Lifecycle {
  private drainingSince: Date | null = null;

  get draining(): boolean {
    return this.drainingSince !== null;
  }

  get since(): Date | null {
    return this.drainingSince;
  }

  startDrain(): void {
    this.drainingSince ??= new Date();
  }
}
